import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, cookieValue, formBody, http } from '../helpers/http.js';
import { type Server, startServer } from '../helpers/process.js';

/**
 * Attacks on the repository's system roots, against a real author process that keeps its keys in
 * the repository (`/etc/key`, AEM's legacy layout): an administrator's script (or a page riding
 * an administrator's session) deleting `/etc` took the keys with it, and the instance no longer
 * started; an editor that an administrator let read `/etc` and `/conf` read the key node and the
 * sealed configurations through renderings of those ancestors.
 */
const PASSWORD = 'roots-admin-password';
const ADMIN = basicAuth('admin', PASSWORD);
const ED = basicAuth('ed', 'ed-password');
const PID = 'com.day.crx.security.token.impl.impl.TokenAuthenticationHandler';
const env = { LATCHKEY_ADMIN_PASSWORD: PASSWORD, LATCHKEY_CRYPTO_KEY_STORAGE: 'repository' };
let data: string;
let server: Server;

const start = () => startServer(['serve', 'author', '--port', '0', '--data', data], env);
const post = (path: string, pairs: [string, string][], auth: string) => {
  const f = formBody(pairs);
  return http(`${server.url}${path}`, {
    method: 'POST',
    body: f.body,
    headers: { ...f.headers, authorization: auth },
  });
};
const get = (path: string, auth: string) =>
  http(`${server.url}${path}`, { headers: { authorization: auth } });

beforeAll(async () => {
  data = mkdtempSync(join(tmpdir(), 'lk-roots-'));
  server = await start();
  const created = await post(
    '/libs/granite/security/post/authorizables',
    [
      ['createUser', ''],
      ['authorizableId', 'ed'],
      ['rep:password', 'ed-password'],
    ],
    ADMIN,
  );
  expect(created.status).toBe(201);
  // A token handler configuration, so that /conf/latchkey exists.
  const saved = await post(
    `/system/console/configMgr/${PID}`,
    [
      ['apply', 'true'],
      ['propertylist', 'token.expiration'],
      ['token.expiration', '43200000'],
    ],
    ADMIN,
  );
  expect(saved.status).toBe(200);
  // An administrator who trusts ed with everything under /etc, /conf and /content.
  for (const root of ['/etc', '/conf', '/content']) {
    const res = await post(
      `${root}.modifyAce.json`,
      [
        ['principalId', 'ed'],
        ['privilege@jcr:all', 'granted'],
      ],
      ADMIN,
    );
    expect(res.status).toBe(200);
  }
}, 60_000);
afterAll(async () => {
  await server.stop();
  rmSync(data, { recursive: true, force: true });
});

describe('system roots: nobody deletes or overwrites them', () => {
  it('refuses an administrator deleting /, /etc, /etc/key, /home, /conf, /conf/latchkey or /libs', async () => {
    for (const path of [
      '/',
      '/etc',
      '/etc/key',
      '/home',
      '/home/users',
      '/home/groups',
      '/conf',
      '/conf/latchkey',
      `/conf/latchkey/osgi/${PID}`,
      '/libs',
    ]) {
      const res = await post(path, [[':operation', 'delete']], ADMIN);
      expect(res.status, path).toBe(403);
      expect(res.json().error, path).toBe('forbidden');
    }
    // Concurrent, as a script would fire them: none gets through.
    const burst = await Promise.all(
      ['/etc', '/conf', '/etc', '/conf'].map((p) => post(p, [[':operation', 'delete']], ADMIN)),
    );
    expect(burst.map((r) => r.status)).toEqual([403, 403, 403, 403]);
    expect((await get('/etc/key.json', ADMIN)).status).toBe(200);
    expect((await get(`/conf/latchkey/osgi/${PID}.json`, ADMIN)).status).toBe(200);
  });

  it('refuses writing under /libs and overwriting /etc/key, whoever asks', async () => {
    for (const path of ['/libs/granite/csrf/token', '/libs/x', '/etc/key', '/etc/key/master']) {
      const res = await post(path, [['master', 'AAAA']], ADMIN);
      expect(res.status, path).toBe(403);
    }
    expect((await get('/libs/x.json', ADMIN)).status).toBe(404);
  });

  it('refuses the System Console’s repository browser deleting /etc', async () => {
    const f = formBody([
      ['j_username', 'admin'],
      ['j_password', PASSWORD],
    ]);
    const signIn = await http(`${server.url}/j_security_check`, {
      method: 'POST',
      body: f.body,
      headers: f.headers,
    });
    const cookie = `login-token=${cookieValue(signIn.headers['set-cookie'], 'login-token')}`;
    const token = (
      await http(`${server.url}/libs/granite/csrf/token.json`, { headers: { cookie } })
    ).json().token as string;
    const del = formBody([['action', 'deleteNode']]);
    const res = await http(`${server.url}/system/console/repository?path=%2Fetc`, {
      method: 'POST',
      body: del.body,
      headers: { ...del.headers, cookie, 'csrf-token': token, origin: server.url },
    });
    expect(res.status).toBe(403);
    expect((await get('/etc/key.json', ADMIN)).status).toBe(200);
  });

  it('an editor with every privilege on /etc and /conf deletes neither', async () => {
    for (const path of ['/etc', '/etc/key', '/conf', '/conf/latchkey']) {
      const res = await post(path, [[':operation', 'delete']], ED);
      expect([403, 404], path).toContain(res.status);
    }
    // Her own content stays hers.
    expect((await post('/content/ed-page', [['jcr:title', 'x']], ED)).status).toBe(201);
    expect((await post('/content/ed-page', [[':operation', 'delete']], ED)).status).toBe(200);
  });
});

describe('key material and configurations: administrators only, whatever an ACL grants', () => {
  it('leaves /etc/key and /conf/latchkey out of every rendering an editor asks for', async () => {
    for (const path of [
      '/etc.json',
      '/etc.1.json',
      '/etc.2.json',
      '/etc.infinity.json',
      '/etc.tidy.infinity.json',
      '/etc.-1.json',
      '/conf.infinity.json',
      '/conf.tidy.-1.json',
    ]) {
      const res = await get(path, ED);
      expect(res.status, path).toBe(200);
      expect(res.text, path).not.toMatch(/"key"|:master|:hmac|latchkey|osgi/);
    }
    for (const path of [
      '/etc/key.json',
      '/etc/key.infinity.json',
      '/etc/key.tidy.json',
      '/conf/latchkey.infinity.json',
      `/conf/latchkey/osgi/${PID}.json`,
    ]) {
      expect((await get(path, ED)).status, path).toBe(404);
    }
  });

  it('shows administrators the key node with Binary sizes only, never the bytes', async () => {
    const res = await get('/etc.infinity.json', ADMIN);
    expect(res.status).toBe(200);
    const key = res.json().key as Record<string, unknown>;
    expect(key[':master']).toBe(32);
    expect(key[':hmac']).toBe(32);
    expect(Object.keys(key).filter((k) => !k.startsWith(':'))).toEqual(['jcr:primaryType']);
  });

  it('the keys survive every attempt: the instance starts again with them', async () => {
    const before = (await get('/etc/key.json', ADMIN)).json();
    await server.stop();
    server = await start();
    expect((await get('/etc/key.json', ADMIN)).json()).toEqual(before);
  }, 30_000);
});
