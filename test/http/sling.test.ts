import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, form, multipart, type TestInstance, testInstance } from '../helpers/instance.js';

let inst: TestInstance;
beforeAll(async () => {
  inst = await testInstance({ role: 'author', 'http.maxRenderNodes': 8 });
});
afterAll(() => inst.close());

const get = (url: string, authorization = ADMIN) =>
  inst.app.inject({ method: 'GET', url, headers: { authorization } });
const post = (
  url: string,
  body: { payload: string | Buffer; headers: Record<string, string> },
  authorization = ADMIN,
) =>
  inst.app.inject({
    method: 'POST',
    url,
    payload: body.payload,
    headers: { ...body.headers, authorization },
  });

describe('GET /<path>.json', () => {
  it('renders a node, one level, and the whole tree', async () => {
    const zero = await get('/content.json');
    expect(zero.statusCode).toBe(200);
    expect(zero.headers['content-type']).toMatch(/application\/json/);
    expect(zero.json()).toEqual({ 'jcr:primaryType': 'sling:Folder' });
    expect((await get('/content.1.json')).json()).toEqual({
      'jcr:primaryType': 'sling:Folder',
      dam: { 'jcr:primaryType': 'sling:Folder' },
    });
    await post('/content/a/b/c', form([['x', '1']]));
    const deep = (await get('/content/a.infinity.json')).json();
    expect(deep.b.c.x).toBe('1');
    const one = (await get('/content/a.1.json')).json();
    expect(one.b).toEqual({ 'jcr:primaryType': 'nt:unstructured' });
  });

  it('pretty-prints with .tidy', async () => {
    const res = await get('/content.tidy.1.json');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('\n  "dam"');
  });

  it('answers 300 with the depths that fit when a rendering would be too large', async () => {
    for (let i = 0; i < 4; i++)
      await post(`/content/big/level1/n${i}/leaf`, form([['v', String(i)]]));
    const res = await get('/content/big.infinity.json');
    expect(res.statusCode).toBe(300);
    expect(res.json()).toEqual([
      '/content/big.2.json',
      '/content/big.1.json',
      '/content/big.0.json',
    ]);
    expect((await get('/content/big.2.json')).statusCode).toBe(200);
  });

  it('resolves node names that contain dots', async () => {
    await post('/content/dam/logo.png', form([['jcr:title', 'Logo']]));
    const res = await get('/content/dam/logo.png.json');
    expect(res.statusCode).toBe(200);
    expect(res.json()['jcr:title']).toBe('Logo');
    expect((await get('/content/dam/logo.png')).json()['jcr:title']).toBe('Logo');
  });

  it('refuses unknown selectors, other extensions, and answers 404 for missing nodes', async () => {
    const bad = await get('/content.bogus.json');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('invalid_selector');
    expect((await get('/content.1.1.json')).json().error).toBe('invalid_selector');
    const html = await get('/content.html');
    expect(html.statusCode).toBe(400);
    expect(html.json().error).toBe('unsupported_extension');
    const missing = await get('/content/nothing-here.json');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: 'not_found', error_description: 'no such resource' });
  });
});

describe('POST /<path>', () => {
  it('creates (201, Location) and then modifies (200) a node', async () => {
    const created = await post('/content/site', form([['jcr:title', 'Site']]));
    expect(created.statusCode).toBe(201);
    expect(created.headers.location).toBe('/content/site');
    expect(created.json()['status.code']).toBe(201);
    const modified = await post('/content/site', form([['jcr:title', 'Site 2']]));
    expect(modified.statusCode).toBe(200);
    expect((await get('/content/site.json')).json()['jcr:title']).toBe('Site 2');
  });

  it('stores typed and multi-valued properties and renders them as Sling does', async () => {
    const res = await post(
      '/content/typed',
      form([
        ['jcr:primaryType', 'sling:Folder'],
        ['count', '42'],
        ['count@TypeHint', 'Long'],
        ['big', '9223372036854775807'],
        ['big@TypeHint', 'Long'],
        ['ratio', '0.5'],
        ['ratio@TypeHint', 'Double'],
        ['flag', 'true'],
        ['flag@TypeHint', 'Boolean'],
        ['when', '2026-11-22T10:00:00Z'],
        ['when@TypeHint', 'Date'],
        ['tags', 'a'],
        ['tags', 'b'],
        ['one', 'x'],
        ['one@TypeHint', 'String[]'],
        ['./rel', 'r'],
      ]),
    );
    expect(res.statusCode).toBe(201);
    expect((await get('/content/typed.json')).json()).toEqual({
      'jcr:primaryType': 'sling:Folder',
      count: 42,
      big: '9223372036854775807',
      ratio: 0.5,
      flag: true,
      when: 'Sun Nov 22 2026 10:00:00 GMT+0000',
      tags: ['a', 'b'],
      one: ['x'],
      rel: 'r',
    });
  });

  it('removes properties with @Delete and with an empty value', async () => {
    await post(
      '/content/del',
      form([
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
      ]),
    );
    await post(
      '/content/del',
      form([
        ['a@Delete', ''],
        ['b', ''],
      ]),
    );
    expect((await get('/content/del.json')).json()).toEqual({
      'jcr:primaryType': 'nt:unstructured',
      c: '3',
    });
  });

  it('accepts multipart forms (curl -F) and stores uploaded files as Binary properties', async () => {
    const res = await post(
      '/content/upload',
      multipart([['title', 'T']], [['data', 'x.bin', Buffer.alloc(300, 7)]]),
    );
    expect(res.statusCode).toBe(201);
    expect((await get('/content/upload.json')).json()).toEqual({
      'jcr:primaryType': 'nt:unstructured',
      title: 'T',
      ':data': 300,
    });
  });

  it('deletes with :operation=delete', async () => {
    await post('/content/gone/child', form([['a', '1']]));
    const res = await post('/content/gone', form([[':operation', 'delete']]));
    expect(res.statusCode).toBe(200);
    expect((await get('/content/gone.json')).statusCode).toBe(404);
    expect((await get('/content/gone/child.json')).statusCode).toBe(404);
    expect((await post('/content/gone', form([[':operation', 'delete']]))).statusCode).toBe(404);
  });

  it('refuses bad values, protected names and unsupported operations with 4xx', async () => {
    const cases: [string, [string, string][], string][] = [
      [
        '/content/bad',
        [
          ['n', 'abc'],
          ['n@TypeHint', 'Long'],
        ],
        'invalid_property',
      ],
      [
        '/content/bad',
        [
          ['n', '1e400'],
          ['n@TypeHint', 'Double'],
        ],
        'invalid_property',
      ],
      [
        '/content/bad',
        [
          ['n', 'soon'],
          ['n@TypeHint', 'Date'],
        ],
        'invalid_property',
      ],
      [
        '/content/bad',
        [
          ['n', '1'],
          ['n@TypeHint', 'Bogus'],
        ],
        'invalid_property',
      ],
      ['/content/bad', [['rep:password', 'x']], 'invalid_property'],
      ['/content/bad', [['a/b', 'x']], 'invalid_property'],
      ['/content/bad', [['a@Patch', 'x']], 'invalid_property'],
      ['/content/bad', [['jcr:primaryType', 'not a type!']], 'invalid_property'],
      ['/content/bad', [[':operation', 'move']], 'invalid_request'],
    ];
    for (const [url, pairs, code] of cases) {
      const res = await post(url, form(pairs));
      expect(res.statusCode, JSON.stringify(pairs)).toBe(400);
      expect(res.json().error).toBe(code);
    }
    expect((await get('/content/bad.json')).statusCode).toBe(404);
  });

  it('refuses changes to the root and to /home through Sling POST', async () => {
    expect((await post('/', form([['a', '1']]))).statusCode).toBe(403);
    expect((await post('/home/users/a', form([['a', '1']]))).statusCode).toBe(403);
    expect((await post('/home/users/x/nobody', form([['a', '1']]))).statusCode).toBe(404);
    const root = await post('/content', form([[':operation', 'delete']]));
    expect(root.statusCode).toBe(200); // /content itself may be deleted by an administrator
  });
});

describe('bad requests', () => {
  it('refuses JSON bodies with 415, oversized bodies with 413 and other methods with 405', async () => {
    const json = await inst.app.inject({
      method: 'POST',
      url: '/content/x',
      payload: '{"a":1}',
      headers: { 'content-type': 'application/json', authorization: ADMIN },
    });
    expect(json.statusCode).toBe(415);
    expect(json.json().error).toBe('unsupported_media_type');
    const big = await post('/content/x', form([['a', 'x'.repeat(2 * 1024 * 1024)]]));
    expect(big.statusCode).toBe(413);
    expect(big.json().error).toBe('payload_too_large');
    const bigFile = await post(
      '/content/x',
      multipart([], [['f', 'f', Buffer.alloc(2 * 1024 * 1024)]]),
    );
    expect(bigFile.statusCode).toBe(413);
    const malformedMultipart = await inst.app.inject({
      method: 'POST',
      url: '/content/x',
      payload: '--zzz\r\nContent-Disposition: form-data; name="a"\r\n\r\ntruncated',
      headers: { 'content-type': 'multipart/form-data; boundary=zzz', authorization: ADMIN },
    });
    expect(malformedMultipart.statusCode).toBe(400);
    expect(malformedMultipart.json().error).toBe('invalid_request');
    const put = await inst.app.inject({
      method: 'PUT',
      url: '/content/x',
      headers: { authorization: ADMIN },
    });
    expect(put.statusCode).toBe(405);
    expect(put.json().error).toBe('method_not_allowed');
  });

  it('refuses traversal, NUL bytes, control characters and over-long paths', async () => {
    const cases: [string, number, string][] = [
      ['/content/../etc.json', 400, 'invalid_path'],
      ['/content/%2e%2e/etc.json', 400, 'invalid_path'],
      ['/content/%2E%2E/etc.json', 400, 'invalid_path'],
      ['/content/..%2fetc.json', 400, 'invalid_path'],
      ['/content/.%2e/etc.json', 400, 'invalid_path'],
      ['/content/./dam.json', 400, 'invalid_path'],
      ['/content//dam.json', 400, 'invalid_path'],
      ['/content/%00.json', 400, 'invalid_path'],
      ['/content/a%0ab.json', 400, 'invalid_path'],
      ['/content/a%5cb.json', 400, 'invalid_path'],
      ['/content/%zz.json', 400, 'invalid_path'],
      ['/content/%e0%a4%a.json', 400, 'invalid_path'],
      [`/content/${'a'.repeat(1100)}.json`, 414, 'path_too_long'],
      [`/content/${'%61'.repeat(3000)}.json`, 414, 'path_too_long'],
    ];
    // Over a real socket: in-process injection would normalize `..` before the server saw it.
    const base = await inst.app.listen({ port: 0, host: '127.0.0.1' });
    for (const [url, status, code] of cases) {
      for (const method of ['GET', 'POST'] as const) {
        const res = await rawRequest(base, method, url, method === 'POST' ? 'a=1' : undefined);
        expect(res.status, `${method} ${url}`).toBe(status);
        expect(JSON.parse(res.body).error, `${method} ${url}`).toBe(code);
      }
    }
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await inst.app.inject({ method: 'OPTIONS', url: '/content.json' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toBe('not_found');
  });
});

/** Sends the path exactly as given (no URL normalization). */
function rawRequest(base: string, method: string, path: string, body?: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const req = httpRequest(
      {
        hostname,
        port,
        method,
        path,
        headers: {
          authorization: ADMIN,
          ...(body
            ? {
                'content-type': 'application/x-www-form-urlencoded',
                'content-length': Buffer.byteLength(body),
              }
            : {}),
        },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          data += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
