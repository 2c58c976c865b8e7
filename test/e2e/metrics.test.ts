import { createPrivateKey, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../helpers/http.js';
import { basic } from '../helpers/instance.js';
import { runCli, type Server, startServer } from '../helpers/process.js';

const root = mkdtempSync(join(tmpdir(), 'lk-metrics-'));
const ADMIN = basic('admin', 'metrics-admin-pw');
let ims: Server;
let author: Server;

beforeAll(async () => {
  ims = await startServer(['serve', 'ims', '--port', '0', '--data', join(root, 'ims')], {
    LATCHKEY_ADMIN_PASSWORD: 'metrics-admin-pw',
    // A Prometheus server at 127.0.0.2 scrapes the IMS without credentials.
    LATCHKEY_METRICS_ALLOW_FROM: '127.0.0.2',
  });
  author = await startServer(
    ['serve', 'author', '--port', '0', '--data', join(root, 'author'), '--ims', ims.url],
    { LATCHKEY_ADMIN_PASSWORD: 'metrics-admin-pw' },
  );
}, 60_000);
afterAll(async () => {
  await Promise.all([ims?.stop(), author?.stop()]);
  rmSync(root, { recursive: true, force: true });
});

/** The value of a sample in Prometheus's text format (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

async function scrape(url: string, authorization = ADMIN): Promise<string> {
  const res = await fetch(url, { headers: { authorization } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

describe('GET /system/metrics (instances)', () => {
  it('is for administrators only: 401 without credentials, 403 for another user', async () => {
    const anonymous = await fetch(`${author.url}/system/metrics`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: string }).error).toBe('unauthorized');
    const created = await fetch(`${author.url}/libs/granite/security/post/authorizables`, {
      method: 'POST',
      headers: { authorization: ADMIN },
      body: new URLSearchParams({ createUser: '', authorizableId: 'mo', 'rep:password': 'mo-pw' }),
    });
    expect(created.status).toBe(201);
    const user = await fetch(`${author.url}/system/metrics`, {
      headers: { authorization: basic('mo', 'mo-pw') },
    });
    expect(user.status).toBe(403);
  });

  it('counts requests by route pattern, logins, token validations, cache lookups and store latency', async () => {
    const before = await scrape(`${author.url}/system/metrics`);
    const login = (password: string) =>
      fetch(`${author.url}/j_security_check`, {
        method: 'POST',
        body: new URLSearchParams({ j_username: 'mo', j_password: password }),
      });
    const ok = await login('mo-pw');
    expect(ok.status).toBe(200);
    expect((await login('wrong')).status).toBe(403);
    const cookie = (ok.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect(
      (await fetch(`${author.url}/home/users/m/mo.json`, { headers: { cookie } })).status,
    ).toBe(200);
    expect(
      (
        await fetch(`${author.url}/content.json`, {
          headers: { authorization: 'Bearer not-a-token' },
        })
      ).status,
    ).toBe(401);
    await fetch(`${author.url}/content/nothing-here-${randomUUID()}.json`, {
      headers: { authorization: ADMIN },
    });
    const after = await scrape(`${author.url}/system/metrics`);

    // The process's own metrics, named once: latchkey_process_…, latchkey_nodejs_….
    expect(after).toMatch(/^latchkey_process_cpu_user_seconds_total /m);
    expect(after).toMatch(/^latchkey_nodejs_eventloop_lag_seconds /m);
    expect(after).not.toContain('latchkey_process_process_');

    const moved = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(moved('latchkey_logins_total', { outcome: 'success' })).toBe(1);
    expect(moved('latchkey_logins_total', { outcome: 'failure' })).toBe(1);
    expect(
      moved('latchkey_token_validations_total', { kind: 'stateful', outcome: 'valid' }),
    ).toBeGreaterThanOrEqual(1);
    expect(moved('latchkey_token_validations_total', { kind: 'bearer', outcome: 'refused' })).toBe(
      1,
    );
    expect(
      moved('latchkey_http_requests_total', {
        role: 'author',
        route: '/j_security_check',
        method: 'POST',
        status: '403',
      }),
    ).toBe(1);
    expect(
      moved('latchkey_store_operation_seconds_count', { backend: 'sqlite', op: 'getNode' }),
    ).toBeGreaterThan(0);
    expect(
      sample(after, 'latchkey_cache_lookups_total', { cache: 'access', result: 'hit' }),
    ).toBeGreaterThan(0);
    // Route patterns, never URLs: a scrape stays small whatever is requested.
    expect(after).not.toContain('nothing-here-');
    expect(after).toContain('latchkey_change_notification_lag_seconds');
  });
});

describe('GET /ims/metrics (IMS)', () => {
  it('answers administrators and the addresses of metrics.allowFrom only', async () => {
    expect((await fetch(`${ims.url}/ims/metrics`)).status).toBe(401);
    expect(
      (
        await fetch(`${ims.url}/ims/metrics`, {
          headers: { authorization: basic('admin', 'wrong') },
        })
      ).status,
    ).toBe(403);
    const fromScraper = await http(`${ims.url}/ims/metrics`, { localAddress: '127.0.0.2' });
    expect(fromScraper.status).toBe(200);
    expect(fromScraper.text).toContain('latchkey_exchanges_total');
  });

  it('counts exchanges by grant and outcome, and revocations by kind', async () => {
    const before = await scrape(`${ims.url}/ims/metrics`);
    const created = await runCli([
      'credentials',
      'create',
      '--environment',
      'p1-e1',
      '--data',
      join(root, 'ims'),
    ]);
    expect(created.code, created.stderr).toBe(0);
    const i = JSON.parse(created.stdout).integration;
    const jwt = await new SignJWT({
      [`http://${i.imsEndpoint}/s/ent_aem_cloud_api`]: true,
      iss: i.org,
      sub: i.id,
      aud: `http://${i.imsEndpoint}/c/${i.technicalAccount.clientId}`,
    })
      .setProtectedHeader({ alg: 'RS256' })
      .setExpirationTime('5m')
      .sign(createPrivateKey(i.privateKey));
    const exchange = (secret: string) =>
      fetch(`${ims.url}/ims/exchange/jwt`, {
        method: 'POST',
        body: new URLSearchParams({
          client_id: i.technicalAccount.clientId,
          client_secret: secret,
          jwt_token: jwt,
        }),
      });
    expect((await exchange('wrong-secret')).status).toBe(400);
    const ok = await exchange(i.technicalAccount.clientSecret);
    expect(ok.status).toBe(200);
    const token = ((await ok.json()) as { access_token: string }).access_token;
    const valid = await fetch(`${author.url}/libs/granite/security/currentuser.json`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(valid.status).toBe(200);
    const revoked = await fetch(`${ims.url}/ims/revoke`, {
      method: 'POST',
      body: new URLSearchParams({
        token,
        client_id: i.technicalAccount.clientId,
        client_secret: i.technicalAccount.clientSecret,
      }),
    });
    expect(revoked.status).toBe(200);
    const after = await scrape(`${ims.url}/ims/metrics`);
    const moved = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(moved('latchkey_exchanges_total', { grant: 'jwt', outcome: 'issued' })).toBe(1);
    expect(moved('latchkey_exchanges_total', { grant: 'jwt', outcome: 'refused' })).toBe(1);
    expect(moved('latchkey_revocations_total', { kind: 'jti' })).toBe(1);
    const instance = await scrape(`${author.url}/system/metrics`);
    expect(
      sample(instance, 'latchkey_token_validations_total', { kind: 'bearer', outcome: 'valid' }),
    ).toBeGreaterThanOrEqual(1);
  });
});
