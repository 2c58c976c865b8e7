import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, formBody, http } from '../helpers/http.js';
import { testIms } from '../helpers/ims.js';
import { ADMIN_PASSWORD, type TestInstance, testInstance } from '../helpers/instance.js';

/**
 * Password guessing, as an attacker on loopback sends it: many guesses at once over real HTTP,
 * from a second loopback address (127.0.0.2) when the attack is about someone else's address.
 * Limits: 5 failures per user and address, 20 per address (the defaults).
 */
let author: TestInstance;
let ims: Awaited<ReturnType<typeof testIms>>;
const authorLogs: string[] = [];
const imsLogs: string[] = [];

beforeAll(async () => {
  author = await testInstance({ role: 'author' }, { listen: true, logLines: authorLogs });
  ims = await testIms({}, { logLines: imsLogs });
});
afterAll(async () => {
  await author.close();
  await ims.close();
});

const login = (user: string, password: string, localAddress = '127.0.0.1') => {
  const f = formBody([
    ['j_username', user],
    ['j_password', password],
  ]);
  return http(`${author.url}/j_security_check`, {
    method: 'POST',
    body: f.body,
    headers: f.headers,
    localAddress,
  });
};

const statuses = (responses: { status: number }[]) => {
  const counts: Record<number, number> = {};
  for (const r of responses) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
};

describe('brute force: concurrent guesses count before any is evaluated', () => {
  it('60 parallel wrong passwords on the login form: at most 5 are tried, the rest get 429', async () => {
    const responses = await Promise.all(
      Array.from({ length: 60 }, (_, i) => login('victim1', `guess-${i}`, '127.0.0.3')),
    );
    const counts = statuses(responses);
    expect(counts[403] ?? 0).toBeLessThanOrEqual(5);
    expect(counts[429]).toBeGreaterThanOrEqual(55);
    expect(Object.keys(counts).sort()).toEqual(['403', '429']);
    const refused = responses.find((r) => r.status === 429)!;
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.json().error).toBe('too_many_requests');
  });

  it('60 parallel wrong HTTP Basic passwords on an instance: at most 5 are tried', async () => {
    const responses = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        http(`${author.url}/content.json`, {
          headers: { authorization: basicAuth('admin', `guess-${i}`) },
          localAddress: '127.0.0.4',
        }),
      ),
    );
    const counts = statuses(responses);
    expect(counts[401] ?? 0).toBeLessThanOrEqual(5);
    expect(counts[429]).toBeGreaterThanOrEqual(55);
  });

  it('60 parallel wrong passwords on the IMS admin API: at most 5 are tried', async () => {
    const responses = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        http(`${ims.url}/ims/admin/credentials`, {
          method: 'POST',
          ...formBody([['environment', 'p1-e1']]),
          headers: {
            ...formBody([]).headers,
            authorization: basicAuth('admin', `guess-${i}`),
          },
          localAddress: '127.0.0.5',
        }),
      ),
    );
    const counts = statuses(responses);
    expect(counts[401] ?? 0).toBeLessThanOrEqual(5);
    expect(counts[429]).toBeGreaterThanOrEqual(55);
  });

  it('60 parallel client_secret guesses on /ims/token/v3: at most 5 are tried', async () => {
    const creds = await ims.credentials();
    const clientId = creds.integration.technicalAccount.clientId;
    const responses = await Promise.all(
      Array.from({ length: 60 }, (_, i) => {
        const f = formBody([
          ['grant_type', 'client_credentials'],
          ['client_id', clientId],
          ['client_secret', `guess-${i}`],
        ]);
        return http(`${ims.url}/ims/token/v3`, {
          method: 'POST',
          body: f.body,
          headers: f.headers,
          localAddress: '127.0.0.6',
        });
      }),
    );
    const counts = statuses(responses);
    expect(counts[400] ?? 0).toBeLessThanOrEqual(5);
    expect(counts[429]).toBeGreaterThanOrEqual(55);
    // The owner of the secret, from another address, is not locked out.
    const f = formBody([
      ['grant_type', 'client_credentials'],
      ['client_id', clientId],
      ['client_secret', creds.integration.technicalAccount.clientSecret],
    ]);
    const owner = await http(`${ims.url}/ims/token/v3`, {
      method: 'POST',
      body: f.body,
      headers: f.headers,
    });
    expect(owner.status).toBe(200);
  });

  it('client_secret guesses on /ims/exchange/jwt count too', async () => {
    const creds = await ims.credentials();
    const clientId = creds.integration.technicalAccount.clientId;
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => {
        const f = formBody([
          ['client_id', clientId],
          ['client_secret', `guess-${i}`],
          ['jwt_token', 'x.y.z'],
        ]);
        return http(`${ims.url}/ims/exchange/jwt`, {
          method: 'POST',
          body: f.body,
          headers: f.headers,
          localAddress: '127.0.0.7',
        });
      }),
    );
    expect(statuses(responses)[429]).toBeGreaterThanOrEqual(25);
  });
});

describe('brute force: nobody can lock the owner out', () => {
  it('failures as ADMIN from 127.0.0.2 do not stop admin signing in from 127.0.0.1', async () => {
    for (let i = 0; i < 5; i++)
      expect((await login('ADMIN', `x${i}`, '127.0.0.2')).status).toBe(403);
    // The attacker's own address is stopped, for every spelling of the name.
    expect((await login('admin', 'x', '127.0.0.2')).status).toBe(429);
    expect((await login('Admin', ADMIN_PASSWORD, '127.0.0.2')).status).toBe(429);
    // The owner, from an address with no failures, signs in: form and Basic.
    expect((await login('admin', ADMIN_PASSWORD, '127.0.0.1')).status).toBe(200);
    const basic = await http(`${author.url}/libs/granite/security/currentuser.json`, {
      headers: { authorization: basicAuth('admin', ADMIN_PASSWORD) },
    });
    expect(basic.json().authorizableId).toBe('admin');
  });

  it('one address guessing many user names is stopped after 20 failures', async () => {
    const responses: number[] = [];
    for (let i = 0; i < 25; i++) responses.push((await login(`user${i}`, 'x', '127.0.0.8')).status);
    expect(responses.slice(0, 20).every((s) => s === 403)).toBe(true);
    expect(responses.slice(20).every((s) => s === 429)).toBe(true);
  });

  it('logs failures with the user id and address, never the password', () => {
    const failed = authorLogs.filter((l) => l.includes('login failed'));
    expect(failed.some((l) => l.includes('"user":"ADMIN"') && l.includes('127.0.0.2'))).toBe(true);
    expect(authorLogs.some((l) => l.includes('basic failed') && l.includes('127.0.0.4'))).toBe(
      true,
    );
    expect(imsLogs.some((l) => l.includes('client failed') && l.includes('127.0.0.6'))).toBe(true);
    for (const lines of [authorLogs, imsLogs])
      expect(lines.some((l) => /guess-\d|"x\d"/.test(l))).toBe(false);
  });
});
