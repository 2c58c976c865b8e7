import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, formBody, http } from '../helpers/http.js';
import { ADMIN_PASSWORD, type TestInstance, testInstance } from '../helpers/instance.js';

/**
 * An editor removing what her ACLs keep from her: she may write `/content/site` but is denied on
 * `/content/site/protected`, and may write `/content/box` but not read `/content/box/sealed`.
 */
const ADMIN = basicAuth('admin', ADMIN_PASSWORD);
const ED = basicAuth('ed', 'ed-pw');
let author: TestInstance;

const post = (path: string, pairs: [string, string][], auth: string) => {
  const f = formBody(pairs);
  return http(`${author.url}${path}`, {
    method: 'POST',
    body: f.body,
    headers: { ...f.headers, authorization: auth },
  });
};
const ace = async (path: string, principal: string, privileges: [string, string][]) =>
  expect(
    (
      await post(
        `${path}.modifyAce.json`,
        [
          ['principalId', principal],
          ...privileges.map(([p, v]): [string, string] => [`privilege@${p}`, v]),
        ],
        ADMIN,
      )
    ).status,
  ).toBe(200);
const exists = async (path: string) =>
  (await http(`${author.url}${path}.json`, { headers: { authorization: ADMIN } })).status === 200;
const aclOf = async (path: string) =>
  (await http(`${author.url}${path}.acl.json`, { headers: { authorization: ADMIN } })).json();

beforeAll(async () => {
  author = await testInstance({ role: 'author' }, { listen: true });
  expect(
    (
      await post(
        '/libs/granite/security/post/authorizables',
        [
          ['createUser', ''],
          ['authorizableId', 'ed'],
          ['rep:password', 'ed-pw'],
        ],
        ADMIN,
      )
    ).status,
  ).toBe(201);
  for (const path of [
    '/content/site/public/page',
    '/content/site/protected/secret',
    '/content/box/sealed/letter',
    '/content/box/open',
    '/content/blind/inside',
    '/content/solo',
  ]) {
    expect((await post(path, [['jcr:title', path]], ADMIN)).status).toBe(201);
  }
  await ace('/content/site', 'ed', [
    ['jcr:read', 'granted'],
    ['jcr:write', 'granted'],
  ]);
  await ace('/content/site/protected', 'ed', [
    ['jcr:read', 'denied'],
    ['jcr:write', 'denied'],
  ]);
  await ace('/content/site/protected/secret', 'administrators', [['jcr:read', 'granted']]);
  await ace('/content/box', 'ed', [
    ['jcr:read', 'granted'],
    ['jcr:write', 'granted'],
  ]);
  await ace('/content/box/sealed', 'ed', [['jcr:read', 'denied']]);
  await ace('/content/blind', 'ed', [['jcr:write', 'granted']]);
});
afterAll(() => author.close());

describe('destructive operations respect every ACL they touch', () => {
  it('deleting /content/site does not take the denied /content/site/protected with it', async () => {
    const res = await post('/content/site', [[':operation', 'delete']], ED);
    expect(res.status).toBe(403);
    expect(await exists('/content/site')).toBe(true);
    expect(await exists('/content/site/public/page')).toBe(true);
    expect(await exists('/content/site/protected/secret')).toBe(true);
    expect(Object.keys(await aclOf('/content/site/protected'))).toEqual(['ed']);
    expect(Object.keys(await aclOf('/content/site/protected/secret'))).toEqual(['administrators']);
  });

  it('deleting a subtree with a part she cannot read is refused whole', async () => {
    const res = await post('/content/box', [[':operation', 'delete']], ED);
    expect(res.status).toBe(403);
    expect(await exists('/content/box/open')).toBe(true);
    expect(await exists('/content/box/sealed/letter')).toBe(true);
  });

  it('write without read on the node itself does not let her delete it (404, as unseen)', async () => {
    const res = await post('/content/blind', [[':operation', 'delete']], ED);
    expect(res.status).toBe(404);
    expect(await exists('/content/blind/inside')).toBe(true);
  });

  it('write on /content does not remove /content from / (the parent loses a child)', async () => {
    await ace('/content/solo', 'ed', [
      ['jcr:read', 'granted'],
      ['jcr:write', 'granted'],
      ['jcr:modifyAccessControl', 'granted'],
    ]);
    const res = await post('/content/solo', [[':operation', 'delete']], ED);
    expect(res.status).toBe(403);
    expect(res.json().error_description).toContain('parent');
    expect(await exists('/content/solo')).toBe(true);
  });

  it('a node carrying an ACL is not removed by someone who may not change ACLs', async () => {
    // ed may write /content/site/public and below; an ACL for someone else sits on page.
    await ace('/content/site/public/page', 'everyone', [['jcr:read', 'granted']]);
    const res = await post('/content/site/public/page', [[':operation', 'delete']], ED);
    expect(res.status).toBe(403);
    expect(res.json().error_description).toContain('access-control');
    expect(Object.keys(await aclOf('/content/site/public/page'))).toEqual(['everyone']);
    await http(`${author.url}/content/site/public/page.deleteAce.json`, {
      method: 'POST',
      ...formBody([[':applyTo', 'everyone']]),
      headers: { ...formBody([]).headers, authorization: ADMIN },
    });
  });

  it('what she may read and write she deletes', async () => {
    expect((await post('/content/site/public', [[':operation', 'delete']], ED)).status).toBe(200);
    expect(await exists('/content/site/public')).toBe(false);
  });

  it('an ACL granting write above them does not open users, keys or latchkey’s configurations', async () => {
    const PID = 'com.day.crx.security.token.impl.impl.TokenAuthenticationHandler';
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
    for (const root of ['/conf', '/etc', '/home']) {
      await ace(root, 'ed', [
        ['jcr:read', 'granted'],
        ['jcr:write', 'granted'],
      ]);
    }
    for (const path of [
      `/conf/latchkey/osgi/${PID}`,
      '/conf/latchkey',
      '/etc/key',
      '/home/users/a/admin',
    ]) {
      const res = await post(path, [['token.samesite.cookie.attr', 'None']], ED);
      expect(res.status, path).toBe(403);
      const del = await post(path, [[':operation', 'delete']], ED);
      expect(del.status, path).toBe(403);
    }
    expect(await exists(`/conf/latchkey/osgi/${PID}`)).toBe(true);
    expect(await exists('/home/users/a/admin')).toBe(true);
    const settings = await http(`${author.url}/system/console/configMgr/${PID}.json`, {
      headers: { authorization: ADMIN },
    });
    expect(settings.json().properties['token.samesite.cookie.attr'].value).toBe('Lax');
  });
});
