import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, cookieValue, formBody, http } from '../helpers/http.js';
import { IMS_ADMIN_PASSWORD, testIms } from '../helpers/ims.js';
import { ADMIN_PASSWORD, type TestInstance, testInstance } from '../helpers/instance.js';

/**
 * Cross-site request forgery, as a page on another origin makes the administrator's browser
 * send it: the browser adds the login-token cookie (or Basic credentials it cached) by itself,
 * and names the page's origin in Origin (or only in Referer, for older browsers).
 */
const EVIL = 'http://evil.example';
const PID = 'com.day.crx.security.token.impl.impl.TokenAuthenticationHandler';
let author: TestInstance;
let ims: Awaited<ReturnType<typeof testIms>>;
let cookie: string;

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

beforeAll(async () => {
  ims = await testIms({ 'security.allowedOrigins': 'https://console.example:8443' });
  author = await testInstance(
    { role: 'author', 'security.allowedOrigins': 'https://console.example:8443' },
    { listen: true },
  );
  cookie = await signIn('admin', ADMIN_PASSWORD);
});
afterAll(async () => {
  await author.close();
  await ims.close();
});

/** What the evil page's form makes the browser send. */
const forged = (
  path: string,
  pairs: [string, string][],
  headers: Record<string, string>,
  base = author.url,
) => {
  const f = formBody(pairs);
  return http(`${base}${path}`, {
    method: 'POST',
    body: f.body,
    headers: { ...f.headers, ...headers },
  });
};

const CREATE_ADMIN: [string, string][] = [
  ['createUser', ''],
  ['authorizableId', 'mallory'],
  ['rep:password', 'mallory-pw'],
  ['membership', 'administrators'],
];
const exists = async (path: string) =>
  (
    await http(`${author.url}${path}.json`, {
      headers: { authorization: basicAuth('admin', ADMIN_PASSWORD) },
    })
  ).status === 200;

describe('CSRF: a foreign page cannot write with the browser’s credentials', () => {
  it('refuses creating an administrator with the admin’s cookie from another origin', async () => {
    const attempts: Record<string, string>[] = [
      { cookie, origin: EVIL },
      { cookie, referer: `${EVIL}/attack.html` }, // a browser that sends no Origin
      { cookie, origin: 'null' }, // a sandboxed frame or data: URL
      { cookie, origin: author.url.replace('http:', 'https:').replace(/:\d+$/, ':1') },
    ];
    for (const headers of attempts) {
      const res = await forged('/libs/granite/security/post/authorizables', CREATE_ADMIN, headers);
      expect(res.status).toBe(403);
      expect(res.json().error).toBe('csrf_origin');
    }
    expect(await exists('/home/users/m/mallory')).toBe(false);
  });

  it('refuses Basic credentials the browser cached after a challenge, from another origin', async () => {
    const res = await forged('/libs/granite/security/post/authorizables', CREATE_ADMIN, {
      authorization: basicAuth('admin', ADMIN_PASSWORD),
      origin: EVIL,
    });
    expect(res.status).toBe(403);
    expect(await exists('/home/users/m/mallory')).toBe(false);
  });

  it('refuses switching the cookie to SameSite=None or sealing values without a CSRF token', async () => {
    const sameSite = await forged(
      `/system/console/configMgr/${PID}`,
      [
        ['apply', 'true'],
        ['propertylist', 'token.samesite.cookie.attr'],
        ['token.samesite.cookie.attr', 'None'],
      ],
      { cookie, origin: author.url },
    );
    expect(sameSite.status).toBe(403);
    expect(sameSite.json().error).toBe('csrf_token');
    const seal = await forged('/system/console/crypto/.json', [['datum', 'x']], { cookie });
    expect(seal.status).toBe(403);
    expect(seal.json().error).toBe('csrf_token');
    const settings = await http(`${author.url}/system/console/configMgr/${PID}.json`, {
      headers: { cookie },
    });
    expect(settings.json().properties['token.samesite.cookie.attr'].value).toBe('Lax');
  });

  it('a write with the cookie needs the token of its own user, as AEM’s CSRF filter', async () => {
    const fetchToken = async (c: string) => {
      const res = await http(`${author.url}/libs/granite/csrf/token.json`, {
        headers: { cookie: c },
      });
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      return res.json().token as string;
    };
    const token = await fetchToken(cookie);
    const pairs: [string, string][] = [['jcr:title', 'by form']];
    const bad = await forged('/content/csrf-ok', pairs, { cookie, 'csrf-token': `${token}x` });
    expect(bad.status).toBe(403);
    expect(bad.json().error).toBe('csrf_token');
    // A token fetched for another user (or anonymously) does not fit the admin's cookie.
    const anonymous = (await http(`${author.url}/libs/granite/csrf/token.json`)).json().token;
    const stolen = await forged('/content/csrf-ok', pairs, { cookie, 'csrf-token': anonymous });
    expect(stolen.status).toBe(403);
    const ok = await forged('/content/csrf-ok', pairs, {
      cookie,
      'csrf-token': token,
      origin: author.url,
    });
    expect(ok.status).toBe(201);
  });

  it('scripts with curl -u or a bearer token and no cookie work unchanged', async () => {
    const res = await forged('/content/by-script', [['jcr:title', 'x']], {
      authorization: basicAuth('admin', ADMIN_PASSWORD),
    });
    expect(res.status).toBe(201);
  });

  it('a configured origin (security.allowedOrigins) may write', async () => {
    const res = await forged('/content/by-console', [['jcr:title', 'x']], {
      authorization: basicAuth('admin', ADMIN_PASSWORD),
      origin: 'https://console.example:8443',
    });
    expect(res.status).toBe(201);
  });
});

describe('login and logout CSRF', () => {
  it('refuses a login posted from another origin (login CSRF) and sets no cookie', async () => {
    const res = await forged(
      '/j_security_check',
      [
        ['j_username', 'admin'],
        ['j_password', ADMIN_PASSWORD],
      ],
      { origin: EVIL },
    );
    expect(res.status).toBe(403);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('a foreign page cannot log the user out with GET; the server’s own page and POST can', async () => {
    const mine = await signIn('admin', ADMIN_PASSWORD);
    const whoami = async () =>
      (
        await http(`${author.url}/libs/granite/security/currentuser.json`, {
          headers: { cookie: mine },
        })
      ).json().authorizableId;
    const attempts: Record<string, string>[] = [
      { referer: `${EVIL}/` },
      { 'sec-fetch-site': 'cross-site' },
      { origin: EVIL },
    ];
    for (const headers of attempts) {
      const res = await http(`${author.url}/system/sling/logout`, {
        headers: { cookie: mine, ...headers },
      });
      expect(res.status).toBe(403);
      expect(await whoami()).toBe('admin');
    }
    const post = await http(`${author.url}/system/sling/logout`, {
      method: 'POST',
      headers: { cookie: mine, origin: author.url },
    });
    expect(post.status).toBe(200);
    expect(await whoami()).toBe('anonymous');
  });
});

describe('CSRF on the IMS', () => {
  it('refuses admin API writes and token requests from another origin’s page', async () => {
    const admin = basicAuth('admin', IMS_ADMIN_PASSWORD);
    const create = await forged(
      '/ims/admin/credentials',
      [['environment', 'p1-e1']],
      {
        authorization: admin,
        origin: EVIL,
      },
      ims.url,
    );
    expect(create.status).toBe(403);
    expect(create.json().error).toBe('csrf_origin');
    const token = await forged(
      '/ims/token/v3',
      [['grant_type', 'client_credentials']],
      {
        referer: `${EVIL}/x`,
      },
      ims.url,
    );
    expect(token.status).toBe(403);
    // The same call from a script works.
    const script = await forged(
      '/ims/admin/credentials',
      [['environment', 'p1-e1']],
      {
        authorization: admin,
      },
      ims.url,
    );
    expect(script.status).toBe(201);
  });
});
