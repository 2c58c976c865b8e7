import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, formBody, http } from '../helpers/http.js';
import { testIms } from '../helpers/ims.js';
import { type TestInstance, testInstance } from '../helpers/instance.js';

/**
 * Password hashing as a denial of service: every Basic request with a made-up user name costs one
 * scrypt (32 MB at the default cost 15). The author and the IMS run in one process, as
 * `latchkey start` runs them; the throttle is opened wide so that only the hashing bound stands
 * between the flood and the IMS.
 */
const WIDE_OPEN = {
  'throttle.maxFailuresPerAddress': 100_000,
  'throttle.maxFailuresPerUser': 100_000,
};
let author: TestInstance;
let ims: Awaited<ReturnType<typeof testIms>>;
let tokenForm: { body: string; headers: Record<string, string> };

beforeAll(async () => {
  ims = await testIms(WIDE_OPEN);
  author = await testInstance(
    { role: 'author', 'security.passwordHashCost': 15, ...WIDE_OPEN },
    { listen: true },
  );
  const creds = await ims.credentials();
  tokenForm = formBody([
    ['grant_type', 'client_credentials'],
    ['client_id', creds.integration.technicalAccount.clientId],
    ['client_secret', creds.integration.technicalAccount.clientSecret],
  ]);
});
afterAll(async () => {
  await author.close();
  await ims.close();
});

const tokenV3 = () =>
  http(`${ims.url}/ims/token/v3`, {
    method: 'POST',
    body: tokenForm.body,
    headers: tokenForm.headers,
  });

describe('password hashing is a bounded resource', () => {
  it('128 concurrent Basic requests with random user names leave /ims/token/v3 fast', async () => {
    for (let i = 0; i < 3; i++) expect((await tokenV3()).status).toBe(200); // warm
    const flood = Promise.all(
      Array.from({ length: 128 }, () =>
        http(`${author.url}/content.json`, {
          headers: {
            authorization: basicAuth(randomBytes(8).toString('hex'), 'guess'),
          },
          localAddress: '127.0.0.2',
        }),
      ),
    );
    let settled = false;
    void flood.then(() => {
      settled = true;
    });
    // Measured all through the flood, until its last request is answered.
    const during: number[] = [];
    while (!settled || during.length < 5) {
      const res = await tokenV3();
      expect(res.status).toBe(200);
      during.push(res.ms);
    }
    const responses = await flood;
    // Unbounded, the IMS waited seconds behind 128 hashes (10 s measured); bounded, it waits
    // for at most the few hashes that may run at once.
    expect(Math.max(...during)).toBeLessThan(1500);
    // Beyond the bound, the flood is refused at once, with a hint when to retry.
    const busy = responses.filter((r) => r.status === 503);
    expect(busy.length).toBeGreaterThan(64);
    expect(busy[0]!.json().error).toBe('temporarily_unavailable');
    expect(busy[0]!.headers['retry-after']).toBe('1');
    expect(responses.every((r) => r.status === 503 || r.status === 401)).toBe(true);
  });

  it('takes as long for an unknown user as for a known one', async () => {
    const known: number[] = [];
    const unknown: number[] = [];
    const ask = async (user: string) =>
      (
        await http(`${author.url}/content.json`, {
          headers: { authorization: basicAuth(user, 'wrong-password') },
        })
      ).ms;
    for (let i = 0; i < 6; i++) {
      known.push(await ask('admin'));
      unknown.push(await ask(`nobody-${i}`));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    const ratio = median(unknown) / median(known);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });
});
