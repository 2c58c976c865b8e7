import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, formBody, http } from '../helpers/http.js';
import { ADMIN_PASSWORD, type TestInstance, testInstance } from '../helpers/instance.js';

/**
 * An editor with write on /content forging system nodes, and names chosen to break storage,
 * rendering or lookups.
 */
const ADMIN = basicAuth('admin', ADMIN_PASSWORD);
const ED = basicAuth('ed', 'ed-pw');
let author: TestInstance;

const post = (path: string, pairs: [string, string][], auth = ED) => {
  const f = formBody(pairs);
  return http(`${author.url}${path}`, {
    method: 'POST',
    body: f.body,
    headers: { ...f.headers, authorization: auth },
  });
};
const get = (path: string, auth = ED) =>
  http(`${author.url}${path}`, { headers: { authorization: auth } });

beforeAll(async () => {
  author = await testInstance({ role: 'author', 'http.maxRenderNodes': 6 }, { listen: true });
  await post(
    '/libs/granite/security/post/authorizables',
    [
      ['createUser', ''],
      ['authorizableId', 'ed'],
      ['rep:password', 'ed-pw'],
    ],
    ADMIN,
  );
  await post(
    '/content.modifyAce.json',
    [
      ['principalId', 'ed'],
      ['privilege@jcr:read', 'granted'],
      ['privilege@jcr:write', 'granted'],
    ],
    ADMIN,
  );
});
afterAll(() => author.close());

describe('node types', () => {
  it('an editor cannot create users, groups, tokens or configurations under /content', async () => {
    for (const type of [
      'rep:User',
      'rep:Group',
      'rep:SystemUser',
      'rep:Token',
      'REP:User',
      'sling:OsgiConfig',
      'latchkey:ImsConfiguration',
    ]) {
      const res = await post('/content/fake', [
        ['jcr:primaryType', type],
        ['rep:authorizableId', 'admin2'],
      ]);
      expect(res.status, type).toBe(400);
      expect(res.json().error).toBe('invalid_property');
      const plain = await post('/content/fake', [['jcr:primaryType', type]]);
      expect(plain.status, type).toBe(400);
    }
    expect((await get('/content/fake.json', ADMIN)).status).toBe(404);
  });
});

describe('names', () => {
  it('a node named with an emoji is stored and sent back, never a 500', async () => {
    const res = await post('/content/%F0%9F%98%80', [['jcr:title', 'smile']]);
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe('/content/%F0%9F%98%80');
    expect(res.json().path).toBe('/content/😀');
    expect((await get('/content/%F0%9F%98%80.json')).json()['jcr:title']).toBe('smile');
  });

  it('a name that cannot be stored is refused with 400 before anything is written', async () => {
    for (const path of ['/content/bad%01name', '/content/a%ED%A0%80b', '/content/x%5By%5D']) {
      const res = await post(path, [['jcr:title', 'x']]);
      expect(res.status, path).toBe(400);
      expect(res.json().error).toBe('invalid_path');
    }
    const property = await post('/content/props', [['bad\u0001name', 'x']]);
    expect(property.status).toBe(400);
    expect((await get('/content/props.json', ADMIN)).status).toBe(404);
  });

  it('__proto__ and constructor are names like any other, and unknown kinds are 404', async () => {
    expect(
      (
        await post('/content/__proto__', [
          ['__proto__', 'p'],
          ['constructor', 'c'],
        ])
      ).status,
    ).toBe(201);
    const parent = (await get('/content.1.json')).json();
    expect(Object.hasOwn(parent, '__proto__')).toBe(true);
    const own = (await get('/content/__proto__.json')).json();
    expect(Object.hasOwn(own, '__proto__') && Object.hasOwn(own, 'constructor')).toBe(true);
    for (const kind of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      for (const res of [
        await post(`/system/console/configs/${kind}/x`, [['clientId', 'x']], ADMIN),
        await get(`/system/console/configs/${kind}/x.json`, ADMIN),
        await post(`/system/console/configMgr/${kind}`, [['apply', 'true']], ADMIN),
        await get(`/system/console/configMgr/${kind}.json`, ADMIN),
      ]) {
        expect(res.status, kind).toBe(404);
        expect(res.json().error).toBe('not_found');
      }
    }
  });
});

describe('rendering limit', () => {
  it('counts only the nodes the caller may read', async () => {
    // 3 readable nodes under /content/pub for ed, 20 she may not read.
    for (const name of ['a', 'b', 'c']) await post(`/content/pub/${name}`, [['t', name]], ADMIN);
    for (let i = 0; i < 20; i++) await post(`/content/pub/hidden/n${i}`, [['t', 'x']], ADMIN);
    await post(
      '/content/pub/hidden.modifyAce.json',
      [
        ['principalId', 'ed'],
        ['privilege@jcr:read', 'denied'],
      ],
      ADMIN,
    );
    const mine = await get('/content/pub.infinity.json');
    expect(mine.status).toBe(200);
    expect(Object.keys(mine.json()).sort()).toEqual(['a', 'b', 'c', 'jcr:primaryType']);
    // The administrator, who sees all 24, gets the choices.
    const admin = await get('/content/pub.infinity.json', ADMIN);
    expect(admin.status).toBe(300);
    expect(admin.json()).toEqual(['/content/pub.1.json', '/content/pub.0.json']);
  });
});
