import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth } from '../helpers/http.js';
import { testIms } from '../helpers/ims.js';
import { ADMIN_PASSWORD, type TestInstance, testInstance } from '../helpers/instance.js';
import { rawHttp as raw } from '../helpers/raw-http.js';

/**
 * Odd `Host` headers, as a raw socket sends them (no client library would): missing, empty,
 * huge, with user info, an unclosed IPv6 literal, a port out of range, non-ASCII, a list.
 * Routes that compare or build URLs from the host (the origin check of every write, GET logout)
 * answered 500. Now a malformed Host is a 400 `invalid_host` in the one error shape everywhere,
 * and a well-formed one (name, IPv4, IPv6 literal, with or without port) works.
 */
let author: TestInstance;
let ims: Awaited<ReturnType<typeof testIms>>;

beforeAll(async () => {
  // Names other than IP literals and localhost are this server's only when configured.
  author = await testInstance(
    { role: 'author', 'security.allowedHosts': 'latchkey.example,my_host.internal' },
    { listen: true },
  );
  ims = await testIms();
});
afterAll(async () => {
  await author.close();
  await ims.close();
});

function request(
  method: string,
  path: string,
  host: Buffer | undefined,
  headers: string[] = [],
  body = '',
  version = 'HTTP/1.1',
): Buffer {
  const lines = [
    `${method} ${path} ${version}`,
    ...headers,
    'Connection: close',
    ...(body
      ? ['Content-Type: application/x-www-form-urlencoded', `Content-Length: ${body.length}`]
      : []),
  ].join('\r\n');
  return Buffer.concat([
    Buffer.from(`${lines}\r\n`),
    host === undefined
      ? Buffer.alloc(0)
      : Buffer.concat([Buffer.from('Host: '), host, Buffer.from('\r\n')]),
    Buffer.from(`\r\n${body}`),
  ]);
}

const BAD: [string, Buffer | undefined][] = [
  ['missing', undefined],
  ['empty', Buffer.from('')],
  ['huge', Buffer.from('a'.repeat(8000))],
  ['user info', Buffer.from('user:pw@127.0.0.1')],
  ['unclosed IPv6', Buffer.from('[::1')],
  ['space', Buffer.from('ex ample')],
  ['path', Buffer.from('a/b')],
  ['port out of range', Buffer.from('127.0.0.1:99999')],
  ['port not a number', Buffer.from('x:abc')],
  ['percent', Buffer.from('%')],
  ['bracket', Buffer.from('[')],
  ['list', Buffer.from('127.0.0.1, evil.example')],
  ['non-ASCII', Buffer.from('éx.example', 'utf8')],
  ['raw bytes', Buffer.from([0xff, 0xfe])],
  ['query', Buffer.from('h?x#y')],
];

describe('Host header', () => {
  it('a malformed or missing Host is a 400 invalid_host on every route, never a 500', async () => {
    const admin = basicAuth('admin', ADMIN_PASSWORD);
    const targets: [string, string, string, string[], string][] = [
      [author.url, 'GET', '/system/sling/logout', ['Referer: http://127.0.0.1/x'], ''],
      [
        author.url,
        'POST',
        '/content/h',
        [`Authorization: ${admin}`, 'Origin: http://127.0.0.1'],
        'a=b',
      ],
      [
        author.url,
        'POST',
        '/j_security_check',
        ['Origin: http://127.0.0.1'],
        'j_username=a&j_password=b',
      ],
      [author.url, 'GET', '/system/console', [], ''],
      [author.url, 'GET', '/content.json', [`Authorization: ${admin}`], ''],
      [ims.url, 'GET', '/ims/.well-known/openid-configuration', [], ''],
      [
        ims.url,
        'POST',
        '/ims/token/v3',
        ['Origin: http://127.0.0.1'],
        'grant_type=client_credentials',
      ],
      [
        ims.url,
        'POST',
        '/ims/console/login',
        ['Origin: http://127.0.0.1'],
        'j_username=a&j_password=b',
      ],
    ];
    const attacks = targets.flatMap(([base, method, path, headers, body]) =>
      BAD.map(([name, host]) => ({
        name: `${method} ${path} (${name})`,
        base,
        bytes: request(method, path, host, headers, body),
      })),
    );
    // Concurrently, as a scanner sends them.
    const results = await Promise.all(attacks.map((a) => raw(a.base, a.bytes)));
    for (const [i, res] of results.entries()) {
      const what = attacks[i]!.name;
      expect(res.status, what).toBe(400);
      expect(res.head.toLowerCase(), what).toContain('x-content-type-options: nosniff');
      if (what.includes('/console')) {
        // The consoles answer their plain-words HTML page.
        expect(res.head.toLowerCase(), what).toContain('content-type: text/html');
        continue;
      }
      expect(JSON.parse(res.body), what).toEqual({
        error: 'invalid_host',
        error_description: 'missing or malformed Host header',
      });
    }
  });

  it('well-formed hosts work, and HTTP/1.0 may leave Host out', async () => {
    const port = new URL(author.url).port;
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `[::1]:${port}`,
      'latchkey.example',
      'my_host.internal:8080',
    ]) {
      const res = await raw(
        author.url,
        request('GET', '/libs/granite/security/currentuser.json', Buffer.from(host)),
      );
      expect(res.status, host).toBe(200);
    }
    const old = await raw(
      author.url,
      request('GET', '/libs/granite/security/currentuser.json', undefined, [], '', 'HTTP/1.0'),
    );
    expect(old.status).toBe(200);
    // A write from the server's own page still passes the origin check under a name or IPv6.
    const admin = basicAuth('admin', ADMIN_PASSWORD);
    for (const host of [`localhost:${port}`, `[::1]:${port}`]) {
      const res = await raw(
        author.url,
        request(
          'POST',
          '/content/host-ok',
          Buffer.from(host),
          [`Authorization: ${admin}`, `Origin: http://${host}`],
          'a=b',
        ),
      );
      expect([200, 201], host).toContain(res.status);
    }
  });

  it('the IMS never names the Host it was sent: its issuer is its public URL', async () => {
    const host = `localhost:${new URL(ims.url).port}`;
    const res = await raw(
      ims.url,
      request('GET', '/ims/.well-known/openid-configuration', Buffer.from(host)),
    );
    expect(res.status).toBe(200);
    expect(ims.publicUrl.issuer).not.toContain('localhost');
    expect(res.body).not.toContain(host);
    expect(JSON.parse(res.body).issuer).toBe(ims.publicUrl.issuer);
  });
});
