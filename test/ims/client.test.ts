import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenManager } from '../../src/client/token-manager.js';
import type { ServiceCredentials } from '../../src/ims/credentials.js';
import { testIms } from '../helpers/ims.js';
import { runCli } from '../helpers/process.js';

let ims: Awaited<ReturnType<typeof testIms>>;
let creds: ServiceCredentials;
beforeAll(async () => {
  ims = await testIms();
  creds = await ims.credentials();
});
afterAll(() => ims.close());

describe('TokenManager', () => {
  it('exchanges once for concurrent callers and serves the cached token', async () => {
    const tm = new TokenManager(creds);
    const tokens = await Promise.all(Array.from({ length: 10 }, () => tm.getToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(tm.exchanges).toBe(1);
    expect(await tm.getToken()).toBe(tokens[0]);
    expect(tm.exchanges).toBe(1);
  });

  it('renews before the token expires', async () => {
    let now = Date.now();
    const tm = new TokenManager(creds, { clock: () => now, refreshBeforeMs: 60_000 });
    const first = await tm.getToken();
    now += 86_400_000 - 120_000; // still two minutes left: more than refreshBefore
    expect(await tm.getToken()).toBe(first);
    now += 70_000; // now within the last minute
    const second = await tm.getToken();
    expect(second).not.toBe(first);
    expect(tm.exchanges).toBe(2);
  });

  it('retries transient failures with backoff, but not bad credentials', async () => {
    let calls = 0;
    const flaky: typeof fetch = async (input, init) => {
      calls++;
      if (calls < 3)
        return new Response(JSON.stringify({ error: 'server_error', error_description: 'busy' }), {
          status: 503,
        });
      return fetch(input, init);
    };
    const tm = new TokenManager(creds, { fetch: flaky, baseDelayMs: 5 });
    expect(await tm.getToken()).toMatch(/^ey/);
    // Two refused attempts, then a third that tries https:// first (as Adobe's clients do) and,
    // since this loopback IMS speaks plain HTTP, http://.
    expect(calls).toBe(4);

    const bad = {
      integration: {
        ...creds.integration,
        technicalAccount: { ...creds.integration.technicalAccount, clientSecret: 'wrong' },
      },
    };
    const refused = new TokenManager(bad, { baseDelayMs: 5 });
    await expect(refused.getToken()).rejects.toMatchObject({ code: 'invalid_client' });
    expect(refused.exchanges).toBe(1);
  });
});

describe('latchkey token dev', () => {
  it("prints the Developer Console's JSON with a user token for the environment", async () => {
    const res = await runCli([
      'token',
      'dev',
      '--user',
      'alice',
      '--environment',
      'p1-e1',
      '--data',
      ims.dataDir,
    ]);
    expect(res.code, res.stderr).toBe(0);
    const json = JSON.parse(res.stdout) as { ok: boolean; statusCode: number; accessToken: string };
    expect(json.ok).toBe(true);
    expect(json.statusCode).toBe(200);
    const payload = JSON.parse(
      Buffer.from(json.accessToken.split('.')[1]!, 'base64url').toString('utf8'),
    );
    expect(payload).toMatchObject({ user_id: 'alice', env: 'p1-e1', type: 'access_token' });
    expect(payload.exp - payload.iat).toBe(86400);
    const bad = await runCli([
      'token',
      'dev',
      '--user',
      'alice',
      '--environment',
      'p7-e7',
      '--data',
      ims.dataDir,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('no environment p7-e7');
  });
});
