import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, cookieValue, formBody, http } from '../helpers/http.js';
import { IMS_ADMIN_PASSWORD, testIms } from '../helpers/ims.js';
import { ADMIN_PASSWORD, type TestInstance, testInstance } from '../helpers/instance.js';

/**
 * Ways around the CSRF filter, as a page (or a request a page makes a browser send) tries them:
 * an `Authorization` header that authenticates nothing, sent beside the login cookie, was taken
 * for a Basic or Bearer script and let a write through without a CSRF token; a sibling subdomain
 * (`Sec-Fetch-Site: same-site`, another origin) logged the user out with GET, and so did a
 * redirect through another site that kept the server's own page as `Referer`.
 */
const ALLOWED = 'https://console.example:8443';
let author: TestInstance;
let ims: Awaited<ReturnType<typeof testIms>>;

beforeAll(async () => {
  author = await testInstance(
    { role: 'author', 'security.allowedOrigins': ALLOWED },
    { listen: true },
  );
  ims = await testIms();
  const f = formBody([
    ['createUser', ''],
    ['authorizableId', 'bob'],
    ['rep:password', 'bob-password'],
  ]);
  const bob = await http(`${author.url}/libs/granite/security/post/authorizables`, {
    method: 'POST',
    body: f.body,
    headers: { ...f.headers, authorization: basicAuth('admin', ADMIN_PASSWORD) },
  });
  expect(bob.status).toBe(201);
});
afterAll(async () => {
  await author.close();
  await ims.close();
});

async function signIn(user: string, password: string): Promise<string> {
  const f = formBody([
    ['j_username', user],
    ['j_password', password],
  ]);
  const res = await http(`${author.url}/j_security_check`, {
    method: 'POST',
    body: f.body,
    headers: f.headers,
  });
  expect(res.status).toBe(200);
  return `login-token=${cookieValue(res.headers['set-cookie'], 'login-token')}`;
}
const write = (path: string, headers: Record<string, string>) => {
  const f = formBody([['jcr:title', 'forged']]);
  return http(`${author.url}${path}`, {
    method: 'POST',
    body: f.body,
    headers: { ...f.headers, ...headers },
  });
};
const exists = async (path: string) =>
  (
    await http(`${author.url}${path}.json`, {
      headers: { authorization: basicAuth('admin', ADMIN_PASSWORD) },
    })
  ).status === 200;

describe('an Authorization header exempts a write from the CSRF token only when it authenticated it', () => {
  it('refuses a cookie write that carries an Authorization header of another scheme or garbage', async () => {
    const cookie = await signIn('admin', ADMIN_PASSWORD);
    const headers = [
      'Garbage xyz',
      'Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXegDTALBgkqhkiG9xIBAgI',
      'Digest username="admin"',
      'NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==',
      'Bearer',
      'Basic',
      'x',
    ];
    // All at once, as a page would fire them.
    const results = await Promise.all(
      headers.map((authorization, i) =>
        write(`/content/forged-${i}`, { cookie, authorization, origin: author.url }),
      ),
    );
    for (const [i, res] of results.entries()) {
      expect(res.status, headers[i]).toBe(403);
      expect(res.json().error, headers[i]).toBe('csrf_token');
      expect(await exists(`/content/forged-${i}`), headers[i]).toBe(false);
    }
  });

  it('Basic credentials that authenticate replace the cookie: the write is theirs, no token needed', async () => {
    const cookie = await signIn('admin', ADMIN_PASSWORD);
    // bob may write nothing: if the admin's cookie were used, the write would succeed.
    const asBob = await write('/content/by-bob', {
      cookie,
      authorization: basicAuth('bob', 'bob-password'),
    });
    expect(asBob.status).toBe(404);
    expect(await exists('/content/by-bob')).toBe(false);
    const asAdmin = await write('/content/by-basic', {
      cookie: await signIn('bob', 'bob-password'),
      authorization: basicAuth('admin', ADMIN_PASSWORD),
    });
    expect(asAdmin.status).toBe(201);
    // Wrong Basic or Bearer credentials never fall back to the cookie.
    for (const authorization of [basicAuth('admin', 'wrong'), 'Bearer e30.e30.e30']) {
      const res = await write('/content/by-fallback', { cookie, authorization });
      expect(res.status, authorization).toBe(401);
    }
    expect(await exists('/content/by-fallback')).toBe(false);
  });

  it('on the IMS Developer Console too: a session cookie with a garbage Authorization needs the token', async () => {
    const f = formBody([
      ['j_username', 'admin'],
      ['j_password', IMS_ADMIN_PASSWORD],
    ]);
    const signedIn = await http(`${ims.url}/ims/console/login`, {
      method: 'POST',
      body: f.body,
      headers: f.headers,
    });
    expect(signedIn.status).toBe(303);
    const cookie = `ims-console=${cookieValue(signedIn.headers['set-cookie'], 'ims-console')}`;
    const get = formBody([['form', 'forged-form-id-0001']]);
    const res = await http(`${ims.url}/ims/console/environments/p1-e1/credentials`, {
      method: 'POST',
      body: get.body,
      headers: { ...get.headers, cookie, authorization: 'Garbage xyz', origin: ims.url },
    });
    expect(res.status).toBe(403);
    expect(res.text).not.toContain('clientSecret');
  });
});

describe('GET logout and writes: only from the server’s own pages', () => {
  const whoami = async (cookie: string) =>
    (
      await http(`${author.url}/libs/granite/security/currentuser.json`, { headers: { cookie } })
    ).json().authorizableId;

  it('refuses a sibling subdomain (same-site) and a redirect through another site', async () => {
    const cookie = await signIn('admin', ADMIN_PASSWORD);
    const attempts: Record<string, string>[] = [
      { 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'same-site', referer: 'https://evil.example.com/' },
      // A redirect through another site keeps the first page's Referer: the browser still says
      // the request is cross-site.
      { 'sec-fetch-site': 'cross-site', referer: `${author.url}/system/console` },
      { 'sec-fetch-site': 'cross-site', origin: author.url },
      { origin: 'null' },
      { referer: 'not a url' },
    ];
    const results = await Promise.all(
      attempts.map((headers) =>
        http(`${author.url}/system/sling/logout`, { headers: { cookie, ...headers } }),
      ),
    );
    for (const [i, res] of results.entries()) {
      expect(res.status, JSON.stringify(attempts[i])).toBe(403);
      expect(res.json().error).toBe('csrf_origin');
    }
    expect(await whoami(cookie)).toBe('admin');
  });

  it('logs out from the server’s own page, a typed URL, or a script', async () => {
    for (const headers of [
      { 'sec-fetch-site': 'same-origin' },
      { 'sec-fetch-site': 'same-origin', referer: `${author.url}/system/console` },
      { 'sec-fetch-site': 'none' },
      {},
    ] as Record<string, string>[]) {
      const cookie = await signIn('admin', ADMIN_PASSWORD);
      const res = await http(`${author.url}/system/sling/logout`, {
        headers: { cookie, ...headers },
      });
      expect(res.status, JSON.stringify(headers)).toBe(200);
      expect(await whoami(cookie)).toBe('anonymous');
    }
  });

  it('refuses a same-site write without Origin, admits an allowed origin’s page', async () => {
    const admin = basicAuth('admin', ADMIN_PASSWORD);
    const sibling = await write('/content/from-sibling', {
      authorization: admin,
      'sec-fetch-site': 'same-site',
    });
    expect(sibling.status).toBe(403);
    expect(sibling.json().error).toBe('csrf_origin');
    const allowed = await write('/content/from-allowed', {
      authorization: admin,
      'sec-fetch-site': 'cross-site',
      origin: ALLOWED,
    });
    expect(allowed.status).toBe(201);
  });
});
