import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth } from '../helpers/http.js';
import { testIms } from '../helpers/ims.js';
import { ADMIN_PASSWORD, type TestInstance, testInstance } from '../helpers/instance.js';
import { type RawResponse, rawHttp } from '../helpers/raw-http.js';

/**
 * Requests refused before any route runs: by Node's HTTP parser (a broken chunk, a bad header
 * line, two Content-Length headers, an unknown method, headers too large, an Expect it cannot
 * meet) or by the body parsers (JSON, which no endpoint takes, text, an encoded body, a body over
 * the limit, a multipart body without boundary). They answered in Fastify's own shape
 * (`{"error":"Bad Request","message":…,"statusCode":400}`), with an empty body (417), or by
 * parsing JSON nobody asked for. Each is now `{"error","error_description"}` with a stable code,
 * `nosniff` and `no-store`, on the instances and the IMS alike.
 */
let author: TestInstance;
let ims: Awaited<ReturnType<typeof testIms>>;

beforeAll(async () => {
  author = await testInstance({ role: 'author', 'http.bodyLimit': 65_536 }, { listen: true });
  ims = await testIms({ 'http.bodyLimit': 65_536 });
});
afterAll(async () => {
  await author.close();
  await ims.close();
});

const FORM = 'application/x-www-form-urlencoded';
const SEND_A_FORM = 'send a form (application/x-www-form-urlencoded or multipart/form-data)';

/** A POST to `path` with these header lines and body, byte for byte. */
function post(path: string, headers: string[], body: string, length = true): string {
  return [
    `POST ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Connection: close',
    ...headers,
    ...(length ? [`Content-Length: ${Buffer.byteLength(body)}`] : []),
    '',
    body,
  ].join('\r\n');
}

function expectShape(res: RawResponse, status: number, error: string, what: string) {
  expect(res.status, `${what}: ${res.head.split('\r\n')[0]} ${res.body.slice(0, 200)}`).toBe(
    status,
  );
  const head = res.head.toLowerCase();
  expect(head, what).toContain('content-type: application/json');
  expect(head, what).toContain('x-content-type-options: nosniff');
  expect(head, what).toContain('cache-control: no-store');
  const body = JSON.parse(res.body);
  expect(Object.keys(body).sort(), what).toEqual(['error', 'error_description']);
  expect(body.error, what).toBe(error);
}

describe('errors raised before any route: one shape', () => {
  for (const [name, target] of [
    [
      'author',
      () => ({
        base: author.url,
        path: '/content/x',
        auth: [`Authorization: ${basicAuth('admin', ADMIN_PASSWORD)}`],
      }),
    ],
    ['IMS', () => ({ base: ims.url, path: '/ims/token/v3', auth: [] as string[] })],
  ] as const) {
    it(`${name}: malformed HTTP, refused by the parser`, async () => {
      const { base, path, auth } = target();
      const cases: [string, string, number, string][] = [
        [
          'broken chunk',
          post(
            path,
            [...auth, `Content-Type: ${FORM}`, 'Transfer-Encoding: chunked'],
            'zz\r\nabc\r\n0\r\n\r\n',
            false,
          ),
          400,
          'invalid_request',
        ],
        [
          'bad header line',
          `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\n\r\n`,
          400,
          'invalid_request',
        ],
        [
          'two Content-Length',
          post(path, [...auth, `Content-Type: ${FORM}`, 'Content-Length: 2'], 'a=b'),
          400,
          'invalid_request',
        ],
        [
          'Content-Length not a number',
          post(path, [...auth, `Content-Type: ${FORM}`, 'Content-Length: abc'], 'a=b', false),
          400,
          'invalid_request',
        ],
        ['garbage request line', 'GARBAGE\r\n\r\n', 400, 'invalid_request'],
        [
          'unknown method',
          `FOO ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
          400,
          'invalid_request',
        ],
        [
          'headers too large',
          `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
          431,
          'request_header_too_large',
        ],
        [
          'Expect it cannot meet',
          post(path, [...auth, `Content-Type: ${FORM}`, 'Expect: 200-ok'], 'a=b'),
          417,
          'expectation_failed',
        ],
      ];
      // All at once, as a scanner sends them.
      const results = await Promise.all(cases.map(([, bytes]) => rawHttp(base, bytes)));
      for (const [i, [what, , status, error]] of cases.entries())
        expectShape(results[i]!, status, error, what);
    });

    it(`${name}: bodies that are not a form, refused by the body parsers`, async () => {
      const { base, path, auth } = target();
      const cases: [string, string, number, string, string?][] = [
        [
          'JSON',
          post(
            path,
            [...auth, 'Content-Type: application/json'],
            '{"grant_type":"client_credentials"}',
          ),
          415,
          'unsupported_media_type',
          SEND_A_FORM,
        ],
        [
          'bad JSON',
          post(path, [...auth, 'Content-Type: application/json'], '{bad'),
          415,
          'unsupported_media_type',
          SEND_A_FORM,
        ],
        [
          'JSON with __proto__',
          post(path, [...auth, 'Content-Type: application/json'], '{"__proto__":{"x":1}}'),
          415,
          'unsupported_media_type',
          SEND_A_FORM,
        ],
        [
          'empty JSON',
          post(path, [...auth, 'Content-Type: application/json'], ''),
          415,
          'unsupported_media_type',
          SEND_A_FORM,
        ],
        [
          'text',
          post(path, [...auth, 'Content-Type: text/plain'], 'a=b'),
          415,
          'unsupported_media_type',
          SEND_A_FORM,
        ],
        [
          'XML',
          post(path, [...auth, 'Content-Type: application/xml'], '<a/>'),
          415,
          'unsupported_media_type',
          SEND_A_FORM,
        ],
        [
          'gzip form',
          post(path, [...auth, `Content-Type: ${FORM}`, 'Content-Encoding: gzip'], 'a=b'),
          415,
          'unsupported_media_type',
        ],
        [
          'over the limit',
          post(path, [...auth, `Content-Type: ${FORM}`], `a=${'x'.repeat(70_000)}`),
          413,
          'payload_too_large',
        ],
        [
          'over the limit, JSON',
          post(path, [...auth, 'Content-Type: application/json'], `"${'x'.repeat(70_000)}"`),
          415,
          'unsupported_media_type',
        ],
        [
          'multipart without boundary',
          post(path, [...auth, 'Content-Type: multipart/form-data'], 'a=b'),
          400,
          'invalid_request',
        ],
        [
          'truncated multipart',
          post(path, [...auth, 'Content-Type: multipart/form-data; boundary=xx'], '--xx\r\nbroken'),
          400,
          'invalid_request',
        ],
      ];
      const results = await Promise.all(cases.map(([, bytes]) => rawHttp(base, bytes)));
      for (const [i, [what, , status, error, description]] of cases.entries()) {
        expectShape(results[i]!, status, error, what);
        if (description)
          expect(JSON.parse(results[i]!.body).error_description, what).toBe(description);
      }
    });
  }

  it('an unauthenticated JSON body is never parsed: its size and shape do not matter', async () => {
    const deep = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
    const res = await rawHttp(
      ims.url,
      post('/ims/token/v3', ['Content-Type: application/json'], deep),
    );
    expectShape(res, 415, 'unsupported_media_type', 'deep JSON');
  });
});
