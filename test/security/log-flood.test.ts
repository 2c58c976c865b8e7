import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, cookieValue, formBody, http } from '../helpers/http.js';
import { type Server, startServer } from '../helpers/process.js';

/**
 * An unauthenticated attacker filling the server's log, against real processes logging at
 * `info` as they run by default: a failed login with a 100 KB user name wrote a 100 KB warning
 * (the name echoed), and every failed, throttled or refused request (bad login-token cookie, bad
 * CSRF token, bad client secret) wrote its own warning at full rate. Now what a client sent is
 * clipped in every line, and those warnings are written once a minute per address with a count;
 * no password, cookie, token or secret ever reaches the log.
 */
const PASSWORD = 'log-flood-admin-password';
const env = { LATCHKEY_ADMIN_PASSWORD: PASSWORD, LATCHKEY_LOG_LEVEL: 'info' };
let dataA: string;
let dataI: string;
let author: Server;
let ims: Server;

beforeAll(async () => {
  dataA = mkdtempSync(join(tmpdir(), 'lk-flood-a-'));
  dataI = mkdtempSync(join(tmpdir(), 'lk-flood-i-'));
  [author, ims] = await Promise.all([
    startServer(['serve', 'author', '--port', '0', '--data', dataA], env),
    startServer(['serve', 'ims', '--port', '0', '--data', dataI], env),
  ]);
}, 60_000);
afterAll(async () => {
  await author?.stop();
  await ims?.stop();
  rmSync(dataA, { recursive: true, force: true });
  rmSync(dataI, { recursive: true, force: true });
});

/** `n` requests, `batch` at a time, from the attacker's address. */
async function flood(n: number, batch: number, send: (i: number) => Promise<unknown>) {
  for (let i = 0; i < n; i += batch)
    await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, j) => send(i + j)));
}

/** What the server logged since `from` (a byte offset of its stdout). */
const logged = (server: Server, from: number) => server.stdout().slice(from);
const lines = (text: string) => text.split('\n').filter((l) => l.startsWith('{'));
const warnings = (text: string, msg: string) =>
  lines(text).filter((l) => l.includes('"level":40') && l.includes(`"msg":"${msg}"`));

describe('log flood', () => {
  it('failed logins with huge user names: clipped, and one warning a minute per address', async () => {
    const before = author.stdout().length;
    const requests = 60;
    await flood(requests, 10, (i) => {
      const f = formBody([
        ['j_username', `${i}-${'u'.repeat(100_000)}`],
        ['j_password', `secret-guess-${i}`],
      ]);
      return http(`${author.url}/j_security_check`, {
        method: 'POST',
        body: f.body,
        headers: f.headers,
        localAddress: '127.0.0.2',
      });
    });
    const text = logged(author, before);
    expect(Math.max(...lines(text).map((l) => l.length))).toBeLessThan(2048);
    // About three access-log lines per request, each short: never the 100 KB name.
    expect(text.length / requests).toBeLessThan(1500);
    expect(warnings(text, 'login failed').length).toBe(1);
    expect(warnings(text, 'login throttled').length).toBe(1);
    expect(text).not.toMatch(/secret-guess/);
  });

  it('refused login-token cookies and CSRF tokens at full rate: a few lines', async () => {
    const f = formBody([
      ['j_username', 'admin'],
      ['j_password', PASSWORD],
    ]);
    const signIn = await http(`${author.url}/j_security_check`, {
      method: 'POST',
      body: f.body,
      headers: f.headers,
    });
    const token = cookieValue(signIn.headers['set-cookie'], 'login-token')!;
    const before = author.stdout().length;
    await flood(300, 30, (i) =>
      http(`${author.url}/libs/granite/security/currentuser.json`, {
        headers: {
          cookie: `login-token=s1.${'A'.repeat(100)}.${i.toString(16).padStart(32, '0')}.x`,
        },
        localAddress: '127.0.0.3',
      }),
    );
    await flood(300, 30, (i) => {
      const w = formBody([['jcr:title', 'x']]);
      return http(`${author.url}/content/flood`, {
        method: 'POST',
        body: w.body,
        headers: {
          ...w.headers,
          cookie: `login-token=${token}`,
          'csrf-token': `forged-csrf-token-${i}`,
        },
        localAddress: '127.0.0.4',
      });
    });
    const text = logged(author, before);
    expect(warnings(text, 'login-token refused').length).toBe(1);
    expect(warnings(text, 'CSRF token refused').length).toBe(1);
    expect(text).not.toContain(token);
    expect(text).not.toContain('forged-csrf-token');
  });

  it('failed client secrets with huge client ids at the IMS, and long URLs: clipped, a few lines', async () => {
    const before = ims.stdout().length;
    await flood(100, 20, (i) =>
      http(`${ims.url}/ims/token/v3`, {
        method: 'POST',
        ...formBody([
          ['grant_type', 'client_credentials'],
          ['client_id', `${i}-${'c'.repeat(50_000)}`],
          ['client_secret', `client-secret-guess-${i}`],
        ]),
        localAddress: '127.0.0.5',
      }),
    );
    await flood(50, 10, (i) =>
      http(`${ims.url}/ims/${'p'.repeat(12_000)}?client_secret=url-secret-${i}`, {
        headers: { authorization: basicAuth('admin', `basic-secret-${i}`) },
        localAddress: '127.0.0.5',
      }),
    );
    const text = logged(ims, before);
    expect(Math.max(...lines(text).map((l) => l.length))).toBeLessThan(2048);
    expect(text.length / 150).toBeLessThan(1500);
    expect(warnings(text, 'client failed').length).toBe(1);
    expect(text).not.toMatch(/client-secret-guess|url-secret|basic-secret/);
  });
});
