import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, formBody, type HttpResponse, http } from '../helpers/http.js';
import { IMS_ADMIN_PASSWORD, testIms } from '../helpers/ims.js';
import { ADMIN_PASSWORD, type TestInstance, testInstance } from '../helpers/instance.js';
import { runCli } from '../helpers/process.js';

/**
 * Names that are also properties of every JavaScript object, sent wherever a request names
 * something: a principal in an ACL (`.acl.json` answered 500 once `constructor` had an entry),
 * path segments, selectors and extensions, form fields and parameters. Each is a name like any
 * other: never a 500, every refusal in the one error shape.
 */
const NAMES = [
  'constructor',
  '__proto__',
  'hasOwnProperty',
  'toString',
  'valueOf',
  'isPrototypeOf',
  '__defineGetter__',
  'prototype',
];
const ADMIN = basicAuth('admin', ADMIN_PASSWORD);
let author: TestInstance;
let ims: Awaited<ReturnType<typeof testIms>>;

beforeAll(async () => {
  author = await testInstance({ role: 'author' }, { listen: true });
  ims = await testIms();
});
afterAll(async () => {
  await author.close();
  await ims.close();
});

const post = (url: string, pairs: [string, string][], headers: Record<string, string> = {}) => {
  const f = formBody(pairs);
  return http(url, { method: 'POST', body: f.body, headers: { ...f.headers, ...headers } });
};
/** Below 500; a refusal is the one JSON error shape (the consoles answer their HTML pages). */
const expectShape = (res: HttpResponse, what: string) => {
  expect(res.status, `${what}: ${res.text.slice(0, 120)}`).toBeLessThan(500);
  const html = String(res.headers['content-type']).startsWith('text/html');
  if (html) expect(what).toMatch(/(^|\s)\/(system|ims)\/console/);
  else if (res.status >= 400) {
    const body = JSON.parse(res.text);
    expect(typeof body.error, what).toBe('string');
    expect(typeof body.error_description, what).toBe('string');
  }
};

describe('prototype names', () => {
  it('an ACL entry for a principal named constructor or __proto__ is rendered, not a 500', async () => {
    expect(
      (await post(`${author.url}/content/proto`, [['a', 'b']], { authorization: ADMIN })).status,
    ).toBe(201);
    for (const name of NAMES) {
      const res = await post(
        `${author.url}/content/proto.modifyAce.json`,
        [
          ['principalId', name],
          ['privilege@jcr:read', 'granted'],
        ],
        { authorization: ADMIN },
      );
      expect(res.status, name).toBe(200);
    }
    for (const selector of ['acl', 'tidy.acl']) {
      const res = await http(`${author.url}/content/proto.${selector}.json`, {
        headers: { authorization: ADMIN },
      });
      expect(res.status, selector).toBe(200);
      const acl = res.json();
      for (const name of NAMES) {
        expect(Object.hasOwn(acl, name), name).toBe(true);
        expect(acl[name]).toMatchObject({ principal: name, granted: ['jcr:read'], denied: [] });
      }
    }
    const removed = await post(
      `${author.url}/content/proto.deleteAce.json`,
      NAMES.map((n): [string, string] => [':applyTo', n]),
      { authorization: ADMIN },
    );
    expect(removed.status).toBe(200);
    const after = await http(`${author.url}/content/proto.acl.json`, {
      headers: { authorization: ADMIN },
    });
    expect(after.json()).toEqual({});
  });

  it('as path segments, selectors, extensions, fields and parameters of every instance route', async () => {
    const urls = NAMES.flatMap((n) => [
      `/content/${n}`,
      `/content/${n}.json`,
      `/content/${n}.acl.json`,
      `/content/${n}.infinity.json`,
      `/content.${n}.json`,
      `/content.${n}`,
      `/content.acl.${n}`,
      `/${n}.json`,
      `/home/users/${n[0]}/${n}.json`,
      `/system/console/configMgr/${n}`,
      `/system/console/configMgr/${n}.json`,
      `/system/console/configs/${n}/${n}.json`,
      `/system/console/configs/ims/${n}.json`,
      `/system/console/${n}`,
      `/system/console/repository?path=/content/${n}&${n}=1`,
      `/system/console/users?q=${n}&user=${n}&group=${n}`,
      `/libs/granite/security/post/authorizables.${n}`,
      `/libs/granite/security/currentuser.json?${n}=1`,
    ]);
    for (const url of urls) {
      const name = url.match(
        /constructor|__proto__|hasOwnProperty|toString|valueOf|isPrototypeOf|__defineGetter__|prototype/,
      )![0];
      expectShape(await http(`${author.url}${url}`, { headers: { authorization: ADMIN } }), url);
      const res = await post(
        `${author.url}${url}`,
        [
          [name, '1'],
          [name, '2'],
          ['principalId', name],
          ['authorizableId', name],
          [':operation', name],
          ['propertylist', name],
          ['apply', 'true'],
        ],
        { authorization: ADMIN },
      );
      expectShape(res, `POST ${url}`);
    }
  });

  it('as client ids, users, paths and fields of the IMS', async () => {
    const admin = basicAuth('admin', IMS_ADMIN_PASSWORD);
    for (const n of NAMES) {
      for (const [method, path, auth] of [
        ['POST', `/ims/admin/credentials/${n}/revoke`, admin],
        ['POST', `/ims/admin/credentials/${n}/certificates`, admin],
        ['DELETE', `/ims/admin/credentials/${n}/certificates/${n}`, admin],
        ['POST', '/ims/admin/dev-token', admin],
        ['POST', '/ims/admin/dev-tokens/revoke', admin],
        ['GET', `/ims/admin/dev-tokens?user=${n}`, admin],
        ['POST', '/ims/token/v3', ''],
        ['POST', '/ims/exchange/jwt', ''],
        ['POST', '/ims/validate_token/v1', ''],
        ['POST', '/ims/revoke', ''],
        ['GET', `/ims/authorize/v2?client_id=${n}&response_type=${n}&${n}=1`, ''],
        ['GET', `/ims/profile/v1?${n}=1`, ''],
      ] as const) {
        const f = formBody([
          [n, '1'],
          ['client_id', n],
          ['client_secret', n],
          ['grant_type', n],
          ['environment', n],
          ['user', n],
          ['token', n],
          ['jti', n],
        ]);
        const res = await http(`${ims.url}${path}`, {
          method,
          ...(method === 'GET' ? {} : { body: f.body }),
          headers: {
            ...(method === 'GET' ? {} : f.headers),
            ...(auth ? { authorization: auth } : {}),
          },
          localAddress: '127.0.0.2',
        });
        expectShape(res, `${method} ${path} ${n}`);
      }
    }
  });

  it('a configuration file naming constructor or __proto__ is an unknown option', async () => {
    for (const name of ['constructor', '__proto__', 'toString']) {
      const file = join(author.data, `${name}.json`);
      writeFileSync(file, `{"${name}": {"port": 1}}`);
      const r = await runCli(['config', 'print', '--config', file]);
      expect(r.code, name).not.toBe(0);
      expect(r.stderr).toContain(`unknown option ${name}`);
    }
  });
});
