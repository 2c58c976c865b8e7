import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, formBody, http } from '../helpers/http.js';
import { type Server, startServer } from '../helpers/process.js';

/**
 * Which failures count together, against `latchkey start` (the author and the IMS in one
 * process, one admin password for both), from attackers on their own loopback addresses. Within
 * one service every credential check counts against the same limits, whatever the method (a
 * guess by Basic counts for the login form and the console). A user name's failures from an
 * address count at both services: they check the same password, so a lockout at one must not be
 * bypassed by guessing on at the other (each service keeping its own counters gave an attacker
 * twice the guesses, and the IMS's password from the author's). Per-address counters stay per
 * service: a flood of made-up names or client secrets at one does not stop that address at the
 * other.
 */
const PASSWORD = 'per-service-admin-password';
let data: string;
let server: Server;
let author: string;
let ims: string;

beforeAll(async () => {
  data = mkdtempSync(join(tmpdir(), 'lk-throttle-'));
  server = await startServer(
    ['start', '--data', data, '--port', '0', '--ims-port', '0'],
    { LATCHKEY_ADMIN_PASSWORD: PASSWORD },
    'author',
  );
  author = server.url;
  ims = /latchkey ims listening on (\S+)/.exec(server.stdout())![1]!;
}, 60_000);
afterAll(async () => {
  await server.stop();
  rmSync(data, { recursive: true, force: true });
});

const formLogin = (base: string, path: string, password: string, from: string) => {
  const f = formBody([
    ['j_username', 'admin'],
    ['j_password', password],
  ]);
  return http(`${base}${path}`, {
    method: 'POST',
    body: f.body,
    headers: f.headers,
    localAddress: from,
  });
};
const authorBasic = (password: string, from: string) =>
  http(`${author}/libs/granite/security/currentuser.json`, {
    headers: { authorization: basicAuth('admin', password) },
    localAddress: from,
  });
const imsAdmin = (password: string, from: string) =>
  http(`${ims}/ims/admin/dev-tokens`, {
    headers: { authorization: basicAuth('admin', password) },
    localAddress: from,
  });
const guesses = <T>(n: number, f: (i: number) => Promise<T>) =>
  Promise.all(Array.from({ length: n }, (_, i) => f(i)));

describe('throttling under latchkey start: a user name counts at both services', () => {
  it('guesses by Basic at the author lock the author’s form and console from that address', async () => {
    const from = '127.0.0.2';
    const wrong = await guesses(5, (i) => authorBasic(`wrong-${i}`, from));
    expect(wrong.map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
    // The right password, by another method, from the same address: refused unevaluated.
    expect((await formLogin(author, '/j_security_check', PASSWORD, from)).status).toBe(429);
    expect((await formLogin(author, '/system/console/login', PASSWORD, from)).status).toBe(429);
    expect((await authorBasic(PASSWORD, from)).status).toBe(429);
    // The owner, from an address with no failures, signs in.
    expect((await formLogin(author, '/j_security_check', PASSWORD, '127.0.0.3')).status).toBe(200);
  });

  it('a lockout at the author is not bypassed by guessing on at the IMS', async () => {
    const from = '127.0.0.2'; // locked at the author above
    expect((await imsAdmin(PASSWORD, from)).status).toBe(429);
    expect((await formLogin(ims, '/ims/console/login', PASSWORD, from)).status).toBe(429);
    // The owner, elsewhere, is not locked out of the IMS either.
    expect((await imsAdmin(PASSWORD, '127.0.0.3')).status).toBe(200);
  });

  it('guesses at the IMS console lock the IMS admin API and the author from that address', async () => {
    const from = '127.0.0.4';
    const wrong = await guesses(5, (i) => formLogin(ims, '/ims/console/login', `wrong-${i}`, from));
    expect(wrong.map((r) => r.status)).toEqual([403, 403, 403, 403, 403]);
    expect((await imsAdmin(PASSWORD, from)).status).toBe(429);
    expect((await authorBasic(PASSWORD, from)).status).toBe(429);
    expect((await authorBasic(PASSWORD, '127.0.0.3')).status).toBe(200);
  });

  it('20 parallel guesses split between the author and the IMS: at most 5 are tried', async () => {
    const from = '127.0.0.6';
    const all = await guesses(20, (i) =>
      i % 2 === 0 ? authorBasic(`wrong-${i}`, from) : imsAdmin(`wrong-${i}`, from),
    );
    const tried = all.filter((r) => r.status === 401).length;
    expect(tried).toBeLessThanOrEqual(5);
    expect(all.filter((r) => r.status === 429).length).toBe(20 - tried);
  });

  it('a flood of made-up names or client secrets at one service leaves the other open', async () => {
    const from = '127.0.0.5';
    const failed = await guesses(20, (i) =>
      http(`${ims}/ims/token/v3`, {
        method: 'POST',
        ...formBody([
          ['grant_type', 'client_credentials'],
          ['client_id', `cm-p1-e${i}-integration`],
          ['client_secret', 'guess'],
        ]),
        localAddress: from,
      }),
    );
    expect(failed.every((r) => r.status === 400 || r.status === 401)).toBe(true);
    // The IMS's address limit counts client secrets and administrators together ...
    expect((await imsAdmin(PASSWORD, from)).status).toBe(429);
    // ... the author's does not.
    expect((await authorBasic(PASSWORD, from)).status).toBe(200);
    const from2 = '127.0.0.7';
    // Ten at a time: beyond 18 checks at once, hashing answers 503 (not a failure).
    for (const batch of [0, 10]) {
      const names = await guesses(10, (i) =>
        http(`${author}/libs/granite/security/currentuser.json`, {
          headers: { authorization: basicAuth(`made-up-${batch + i}`, 'guess') },
          localAddress: from2,
        }),
      );
      expect(names.map((r) => r.status)).toEqual(Array(10).fill(401));
    }
    expect((await authorBasic(PASSWORD, from2)).status).toBe(429);
    expect((await imsAdmin(PASSWORD, from2)).status).toBe(200);
  });
});
