import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { LatchkeyError } from '../../src/errors.js';
import { isValidName } from '../../src/repository/path.js';
import { type FormData, parseSlingPost } from '../../src/repository/sling-post-form.js';
import { ADMIN, type TestInstance, testInstance } from '../helpers/instance.js';
import { anyText, campaign } from './campaign.js';

// Urlencoded and multipart bodies: the Sling POST form reader in process, and raw bodies over
// HTTP (Fastify's parsers, latchkey's multipart reader with its whole-body limit, the schemas)
// at the routes that take forms. Never a 5xx, errors always {"error","error_description"}.

let inst: TestInstance;
beforeAll(async () => {
  inst = await testInstance({ 'http.bodyLimit': 64 * 1024 });
});
afterAll(() => inst.close());

const fieldName = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    ':operation',
    ':redirect',
    'a@TypeHint',
    'a@Delete',
    'a@Unknown',
    './a',
    './',
    '../a',
    'a/b',
    'jcr:primaryType',
    'jcr:mixinTypes',
    'rep:password',
    'createUser',
    'authorizableId',
    'j_username',
    'j_password',
    '_charset_',
    '__proto__',
    'constructor',
    '@TypeHint',
  ),
);
const fieldValue = fc.oneof(
  anyText,
  fc.constantFrom('Long', 'Long[]', 'Date', 'Boolean', 'Binary', 'x[]', 'rep:User', 'delete', ''),
);

const typed = (err: unknown) => err instanceof LatchkeyError && err.status < 500;

describe('form bodies', () => {
  it('Sling POST fields: property changes with valid names, or a typed 400', async ({ task }) => {
    const form = fc
      .tuple(
        fc.array(fc.tuple(fieldName, fc.array(fieldValue, { minLength: 1, maxLength: 3 })), {
          maxLength: 8,
        }),
        fc.array(fc.tuple(fieldName, fc.uint8Array({ maxLength: 20 })), { maxLength: 2 }),
      )
      .map(
        ([fields, files]): FormData => ({
          fields: new Map(fields),
          files: new Map(files.map(([n, b]) => [n, Buffer.from(b)])),
        }),
      );
    await campaign(
      task,
      'Sling POST form',
      form,
      (f) => {
        try {
          const changes = parseSlingPost(f);
          const names = [...changes.set.keys(), ...changes.remove];
          return names.every(isValidName) ? 'accepted' : 'forgery';
        } catch (err) {
          if (typed(err)) return 'refused';
          throw err;
        }
      },
      { sample: 500, full: 20_000 },
    );
  });

  const route = fc.constantFrom(
    '/content/fuzz',
    '/content/fuzz.json',
    '/j_security_check',
    '/libs/granite/security/post/authorizables',
    '/system/console/crypto/.json',
    '/system/console/configMgr/com.day.crx.security.token.impl.impl.TokenAuthenticationHandler',
    '/content/fuzz.modifyAce.json',
    '/system/sling/logout',
  );
  const boundary = fc.constantFrom('x', 'fuzz', '----b', '"q"', 'a'.repeat(80));
  /** A multipart body made of plausible parts, then damaged or not. */
  const multipartBody = fc
    .tuple(
      boundary,
      fc.array(
        fc.tuple(
          fieldName,
          fieldValue,
          fc.option(fc.constantFrom('f.bin', '../../x', '', 'a"b', '\u0000'), { nil: undefined }),
          fc.constantFrom('', 'Content-Type: text/plain\r\n', 'X: y\r\n'.repeat(50)),
        ),
        { maxLength: 5 },
      ),
      fc.constantFrom('--\r\n', '', '--', '\r\n', '--\r\n--x--\r\n'),
      fc.option(fc.nat({ max: 400 }), { nil: undefined }),
    )
    .map(([b, parts, end, cut]) => {
      const bare = b.replaceAll('"', '');
      const text = `${parts
        .map(
          ([n, v, file, extra]) =>
            `--${bare}\r\nContent-Disposition: form-data; name="${n}"${
              file === undefined ? '' : `; filename="${file}"`
            }\r\n${extra}\r\n${v}\r\n`,
        )
        .join('')}--${bare}${end}`;
      return {
        type: `multipart/form-data; boundary=${b}`,
        body: cut === undefined ? text : text.slice(0, cut),
      };
    });
  const urlencodedBody = fc
    .array(fc.tuple(fieldName, fieldValue), { maxLength: 8 })
    .chain((pairs) =>
      fc.oneof(
        fc.constant(new URLSearchParams(pairs).toString()),
        fc.constant(pairs.map(([k, v]) => `${k}=${v}`).join('&')), // unencoded, as a sloppy client
        fc.constant('%'.repeat(50)),
        fc.constant('a=%zz&b=%E0%A4%A'),
      ),
    )
    .map((body) => ({ type: 'application/x-www-form-urlencoded', body }));
  const otherBody = fc
    .tuple(
      fc.constantFrom(
        'application/json',
        'text/plain',
        'multipart/form-data',
        'multipart/mixed; boundary=x',
        'application/x-www-form-urlencoded; charset=utf-16',
        '',
      ),
      fc.uint8Array({ maxLength: 300 }),
    )
    .map(([type, bytes]) => ({ type, body: Buffer.from(bytes).toString('latin1') }));

  it('over HTTP: urlencoded, multipart and other bodies answer below 500 with one error shape', async ({
    task,
  }) => {
    await campaign(
      task,
      'form bodies over HTTP',
      fc.tuple(route, fc.oneof(multipartBody, urlencodedBody, otherBody), fc.boolean()),
      async ([url, { type, body }, asAdmin]) => {
        const res = await inst.app.inject({
          method: 'POST',
          url,
          payload: Buffer.from(body, 'latin1'),
          headers: {
            ...(asAdmin ? { authorization: ADMIN } : {}),
            ...(type ? { 'content-type': type } : {}),
            // Same-origin, as a script or the server's own page sends it.
            origin: 'http://localhost:80',
            host: 'localhost:80',
          },
        });
        if (res.statusCode >= 500) return 'crash';
        if (res.statusCode >= 400 && String(res.headers['content-type']).includes('json')) {
          const keys = Object.keys(res.json()).sort().join(',');
          if (keys !== 'error,error_description') return 'crash';
        }
        return res.statusCode < 400 ? 'accepted' : 'refused';
      },
      { sample: 200, full: 1_000, hangMs: 10_000 },
    );
  });
});
