import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { basicAuth } from '../helpers/http.js';
import { testIms } from '../helpers/ims.js';
import { ADMIN_PASSWORD, type TestInstance, testInstance } from '../helpers/instance.js';
import { type RawResponse, rawHttp } from '../helpers/raw-http.js';

/**
 * DNS rebinding: a page of `evil.example` whose name the attacker re-resolves to 127.0.0.1 is
 * same-origin with itself, so its requests pass the origin check (its `Origin` matches its
 * `Host`). It read anonymous content of a publish instance, and its failed sign-ins counted
 * against the browser's address, so the owner, signing in from that address, was locked out.
 * Now a `Host` that is not one of the server's names is refused (421 `host_not_allowed`) before
 * anything reads the request: by default IP literals, localhost, *.localhost and the names of
 * configured URLs; others through `security.allowedHosts`.
 */
let author: TestInstance;
let publish: TestInstance;
let named: TestInstance;
let anyHost: TestInstance;
let ims: Awaited<ReturnType<typeof testIms>>;
const logLines: string[] = [];

beforeAll(async () => {
  [author, publish, named, anyHost, ims] = await Promise.all([
    testInstance({ role: 'author' }, { listen: true, logLines }),
    testInstance({ role: 'publish' }, { listen: true }),
    testInstance(
      {
        role: 'author',
        'security.allowedHosts': 'author.example, *.corp.example',
        'security.allowedOrigins': 'https://console.example:8443',
      },
      { listen: true },
    ),
    testInstance({ role: 'publish', 'security.allowedHosts': '*' }, { listen: true }),
    testIms({ 'ims.publicUrl': 'https://login.example' }),
  ]);
  // Anonymous content on the publish instance, as a page would want to read it.
  const res = await send(
    publish.url,
    'POST',
    '/content/public-page',
    `127.0.0.1:${portOf(publish.url)}`,
    [`Authorization: ${basicAuth('admin', ADMIN_PASSWORD)}`],
    'title=hello',
  );
  expect([200, 201]).toContain(res.status);
});
afterAll(async () => {
  await Promise.all([author, publish, named, anyHost, ims].map((s) => s?.close()));
});

function portOf(url: string): string {
  return new URL(url).port;
}

/** A request as the browser sends it for the page: its Host, and headers such as its Origin. */
function send(
  base: string,
  method: string,
  path: string,
  host: string,
  headers: string[] = [],
  body = '',
): Promise<RawResponse> {
  const lines = [
    `${method} ${path} HTTP/1.1`,
    `Host: ${host}`,
    ...headers,
    'Connection: close',
    ...(body
      ? ['Content-Type: application/x-www-form-urlencoded', `Content-Length: ${body.length}`]
      : []),
  ];
  return rawHttp(base, `${lines.join('\r\n')}\r\n\r\n${body}`);
}

function expectRefused(res: RawResponse, what: string): void {
  expect(res.status, what).toBe(421);
  expect(res.head.toLowerCase(), what).toContain('x-content-type-options: nosniff');
  const body = JSON.parse(res.body);
  expect(body.error, what).toBe('host_not_allowed');
  expect(body.error_description, what).toContain('security.allowedHosts');
  expect(Object.keys(body).sort(), what).toEqual(['error', 'error_description']);
}

describe('DNS rebinding', () => {
  it("a rebound page cannot read a publish instance's anonymous content", async () => {
    const port = portOf(publish.url);
    const fair = await send(publish.url, 'GET', '/content/public-page.json', `127.0.0.1:${port}`);
    expect(fair.status).toBe(200);
    expect(fair.body).toContain('hello');
    const host = `evil.example:${port}`;
    const res = await send(publish.url, 'GET', '/content/public-page.json', host, [
      `Referer: http://${host}/`,
    ]);
    expectRefused(res, 'GET content');
    expect(res.body).not.toContain('hello');
  });

  it("a rebound page's failed sign-ins do not lock the owner out of her address", async () => {
    const port = portOf(author.url);
    const host = `evil.example:${port}`;
    // Ten wrong passwords for admin, at once: the throttle allows 5 per user and address.
    const attempts = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        send(
          author.url,
          'POST',
          '/j_security_check',
          host,
          [`Origin: http://${host}`],
          `j_username=admin&j_password=guess-${i}`,
        ),
      ),
    );
    for (const [i, res] of attempts.entries()) expectRefused(res, `attempt ${i}`);
    const basic = await send(author.url, 'GET', '/content.json', host, [
      `Authorization: ${basicAuth('admin', 'wrong')}`,
    ]);
    expectRefused(basic, 'Basic');
    // The owner, from the same address, under the server's own name.
    const own = `localhost:${port}`;
    const owner = await send(
      author.url,
      'POST',
      '/j_security_check',
      own,
      [`Origin: http://${own}`],
      `j_username=admin&j_password=${encodeURIComponent(ADMIN_PASSWORD)}`,
    );
    expect(owner.status).not.toBe(429);
    expect(owner.head.toLowerCase()).toContain('set-cookie: login-token=');
  });

  it('the IMS refuses a rebound page too', async () => {
    const host = `evil.example:${portOf(ims.url)}`;
    expectRefused(
      await send(ims.url, 'GET', '/ims/.well-known/openid-configuration', host),
      'metadata',
    );
    expectRefused(
      await send(
        ims.url,
        'POST',
        '/ims/token/v3',
        host,
        [`Origin: http://${host}`],
        'grant_type=client_credentials&client_id=x&client_secret=y',
      ),
      'token',
    );
    // The Developer Console answers its plain-words page, with the same status.
    const page = await send(ims.url, 'GET', '/ims/console', host);
    expect(page.status).toBe(421);
    expect(page.head.toLowerCase()).toContain('content-type: text/html');
    expect(page.body).toContain('security.allowedHosts');
  });

  it("answers under its own names: IP literals, localhost, *.localhost, its public URL's name", async () => {
    const cases: [string, string, string][] = [];
    for (const [base, path] of [
      [author.url, '/libs/granite/security/currentuser.json'],
      [publish.url, '/content/public-page.json'],
      [ims.url, '/ims/.well-known/openid-configuration'],
    ] as const) {
      const port = portOf(base);
      for (const host of [
        `127.0.0.1:${port}`,
        '127.0.0.1',
        `[::1]:${port}`,
        `localhost:${port}`,
        'LOCALHOST.',
        `app.localhost:${port}`,
      ])
        cases.push([base, path, host]);
    }
    cases.push([ims.url, '/ims/.well-known/openid-configuration', 'login.example']);
    const results = await Promise.all(
      cases.map(([base, path, host]) => send(base, 'GET', path, host)),
    );
    for (const [i, res] of results.entries()) expect(res.status, cases[i]!.join(' ')).toBe(200);
  });

  it('answers the names configured in security.allowedHosts and allowedOrigins; * allows any', async () => {
    const path = '/libs/granite/security/currentuser.json';
    for (const host of [
      'author.example:4502',
      'Author.Example',
      'a.corp.example',
      'console.example:8443',
    ])
      expect((await send(named.url, 'GET', path, host)).status, host).toBe(200);
    for (const host of ['corp.example', 'author.example.evil.example', 'evil.example'])
      expectRefused(await send(named.url, 'GET', path, host), host);
    // Names configured on one server are not another's.
    expectRefused(await send(author.url, 'GET', path, 'author.example'), 'other server');
    expect((await send(anyHost.url, 'GET', path, 'evil.example')).status).toBe(200);
  });

  it('names the refused host clipped, never a long input whole', async () => {
    const long = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.example`;
    const res = await send(author.url, 'GET', '/content.json', long);
    expectRefused(res, 'long host');
    expect(res.body).not.toContain('c'.repeat(60));
    expect(JSON.parse(res.body).error_description.length).toBeLessThan(200);
    // Logged, clipped too.
    const logged = logLines.filter((l) => l.includes('Host not allowed'));
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.join('\n')).not.toContain('c'.repeat(60));
  });

  it('security.allowedHosts takes host names only: a URL or a port is refused at start, saying so', () => {
    for (const value of ['https://a.example', 'a.example:8443', 'a b', 'a..example']) {
      expect(() => loadConfig({ env: { LATCHKEY_SECURITY_ALLOWED_HOSTS: value } }), value).toThrow(
        /security\.allowedHosts: .* is not a host name/,
      );
    }
    expect(
      loadConfig({ env: { LATCHKEY_SECURITY_ALLOWED_HOSTS: ' A.Example., *.corp.example,*' } })
        .security.allowedHosts,
    ).toEqual(['a.example', '*.corp.example', '*']);
  });
});
