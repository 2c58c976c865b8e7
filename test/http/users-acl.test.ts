import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  basic,
  form,
  multipart,
  type TestInstance,
  testInstance,
} from '../helpers/instance.js';

let inst: TestInstance;
beforeAll(async () => {
  inst = await testInstance({ role: 'author' });
});
afterAll(() => inst.close());

const AUTHORIZABLES = '/libs/granite/security/post/authorizables';
const get = (url: string, authorization?: string) =>
  inst.app.inject({ method: 'GET', url, headers: authorization ? { authorization } : {} });
const post = (
  url: string,
  body: { payload: string | Buffer; headers: Record<string, string> },
  authorization?: string,
) =>
  inst.app.inject({
    method: 'POST',
    url,
    payload: body.payload,
    headers: { ...body.headers, ...(authorization ? { authorization } : {}) },
  });
const createUser = (id: string, password: string, extra: [string, string][] = []) =>
  post(
    AUTHORIZABLES,
    form([['createUser', ''], ['authorizableId', id], ['rep:password', password], ...extra]),
    ADMIN,
  );

describe('user admin (AEM authorizables endpoint)', () => {
  it('creates a user as AEM scripts do (curl -F), who can then sign in', async () => {
    const res = await post(
      AUTHORIZABLES,
      multipart([
        ['createUser', ''],
        ['authorizableId', 'alice'],
        ['rep:password', 'alice-pw'],
        ['profile/givenName', 'Alice'],
      ]),
      ADMIN,
    );
    expect(res.statusCode).toBe(201);
    expect(res.headers.location).toBe('/home/users/a/alice');
    expect(res.json()).toMatchObject({ path: '/home/users/a/alice', authorizableId: 'alice' });
    const own = await get('/home/users/a/alice.1.json', basic('alice', 'alice-pw'));
    expect(own.statusCode).toBe(200);
    expect(own.json()).toEqual({
      'jcr:primaryType': 'rep:User',
      'rep:authorizableId': 'alice',
      'rep:principalName': 'alice',
      profile: { 'jcr:primaryType': 'nt:unstructured', givenName: 'Alice' },
    });
  });

  it('never renders or logs the password hash, even to admin', async () => {
    const res = await get('/home/users/a/alice.json', ADMIN);
    expect(res.body).not.toContain('rep:password');
    expect(res.body).not.toContain('scrypt');
    expect(res.body).not.toContain('alice-pw');
  });

  it('refuses duplicates (409), bad ids and empty passwords (400), non-admins (403), anonymous (401)', async () => {
    expect((await createUser('alice', 'x')).statusCode).toBe(409);
    for (const id of ['', 'a/b', '../x', 'anonymous', 'everyone', 'x'.repeat(200), 'a b']) {
      const res = await createUser(id, 'x');
      expect(res.statusCode, id).toBe(400);
      expect(res.json().error).toBe('invalid_authorizable_id');
    }
    const noPw = await post(
      AUTHORIZABLES,
      form([
        ['createUser', ''],
        ['authorizableId', 'nopw'],
      ]),
      ADMIN,
    );
    expect(noPw.statusCode).toBe(400);
    expect(noPw.json().error).toBe('invalid_password');
    const asAlice = await post(
      AUTHORIZABLES,
      form([
        ['createUser', ''],
        ['authorizableId', 'mallory'],
        ['rep:password', 'x'],
      ]),
      basic('alice', 'alice-pw'),
    );
    expect(asAlice.statusCode).toBe(403);
    const anon = await post(
      AUTHORIZABLES,
      form([
        ['createUser', ''],
        ['authorizableId', 'm2'],
        ['rep:password', 'x'],
      ]),
    );
    expect(anon.statusCode).toBe(401);
    const neither = await post(AUTHORIZABLES, form([['authorizableId', 'x']]), ADMIN);
    expect(neither.statusCode).toBe(400);
  });

  it('creates groups, manages members, and a group grant applies to its members', async () => {
    await createUser('bob', 'bob-pw');
    const group = await post(
      AUTHORIZABLES,
      form([
        ['createGroup', ''],
        ['authorizableId', 'editors'],
        ['addMembers', 'alice'],
      ]),
      ADMIN,
    );
    expect(group.statusCode).toBe(201);
    expect(group.json().path).toBe('/home/groups/e/editors');
    await post('/content/site', form([['jcr:title', 'Site']]), ADMIN);
    const grant = await post(
      '/content/site.modifyAce.json',
      form([
        ['principalId', 'editors'],
        ['privilege@jcr:read', 'granted'],
      ]),
      ADMIN,
    );
    expect(grant.statusCode).toBe(200);
    expect((await get('/content/site.json', basic('alice', 'alice-pw'))).statusCode).toBe(200);
    expect((await get('/content/site.json', basic('bob', 'bob-pw'))).statusCode).toBe(404);
    const add = await post('/home/groups/e/editors.rw.html', form([['addMembers', 'bob']]), ADMIN);
    expect(add.statusCode).toBe(200);
    expect((await get('/content/site.json', basic('bob', 'bob-pw'))).statusCode).toBe(200);
    await post('/home/groups/e/editors', form([['removeMembers', 'bob']]), ADMIN);
    expect((await get('/content/site.json', basic('bob', 'bob-pw'))).statusCode).toBe(404);
    const unknown = await post('/home/groups/e/editors', form([['addMembers', 'nobody']]), ADMIN);
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toBe('invalid_member');
  });

  it('changes a password, disables and re-enables a user', async () => {
    await createUser('carol', 'old-pw');
    const change = await post('/home/users/c/carol', form([['rep:password', 'new-pw']]), ADMIN);
    expect(change.statusCode).toBe(200);
    expect((await get('/home/users/c/carol.json', basic('carol', 'old-pw'))).statusCode).toBe(401);
    expect((await get('/home/users/c/carol.json', basic('carol', 'new-pw'))).statusCode).toBe(200);
    await post('/home/users/c/carol', form([['disableUser', 'left the company']]), ADMIN);
    expect((await get('/home/users/c/carol.json', basic('carol', 'new-pw'))).statusCode).toBe(401);
    await post('/home/users/c/carol', form([['disableUser', '']]), ADMIN);
    expect((await get('/home/users/c/carol.json', basic('carol', 'new-pw'))).statusCode).toBe(200);
  });

  it('deletes a user (deleteAuthorizable on its path): it can no longer sign in', async () => {
    await createUser('dave', 'dave-pw');
    await post(
      AUTHORIZABLES,
      form([
        ['createGroup', ''],
        ['authorizableId', 'ops'],
        ['addMembers', 'dave'],
      ]),
      ADMIN,
    );
    const res = await post('/home/users/d/dave', form([['deleteAuthorizable', '']]), ADMIN);
    expect(res.statusCode).toBe(200);
    expect((await get('/home/users/d/dave.json', ADMIN)).statusCode).toBe(404);
    expect((await get('/content.json', basic('dave', 'dave-pw'))).statusCode).toBe(401);
    const members = await inst.store.getNode('/home/groups/o/ops');
    expect(JSON.stringify(members?.properties['rep:members'])).not.toContain('dave');
    const again = await post('/home/users/d/dave', form([['deleteAuthorizable', '']]), ADMIN);
    expect(again.statusCode).toBe(404);
    expect(
      (await post('/home/users/a/admin', form([['deleteAuthorizable', '']]), ADMIN)).statusCode,
    ).toBe(403);
    const noop = await post('/home/users/a/alice', form([['whatever', 'x']]), ADMIN);
    expect(noop.statusCode).toBe(400);
  });
});

describe('access control', () => {
  it('grants and denies read and write per principal on a subtree', async () => {
    await post('/content/docs/public', form([['a', '1']]), ADMIN);
    await post('/content/docs/secret', form([['a', '2']]), ADMIN);
    await post(
      '/content/docs.modifyAce.json',
      form([
        ['principalId', 'alice'],
        ['privilege@jcr:read', 'granted'],
      ]),
      ADMIN,
    );
    await post(
      '/content/docs/secret.modifyAce.json',
      form([
        ['principalId', 'alice'],
        ['privilege@jcr:read', 'denied'],
        ['privilege@jcr:write', 'denied'],
      ]),
      ADMIN,
    );
    const alice = basic('alice', 'alice-pw');
    const tree = await get('/content/docs.1.json', alice);
    expect(tree.statusCode).toBe(200);
    expect(Object.keys(tree.json())).toEqual(['jcr:primaryType', 'public']);
    expect((await get('/content/docs/secret.json', alice)).statusCode).toBe(404);
    expect((await get('/content.json', alice)).statusCode).toBe(404);

    const write = await post('/content/docs/public', form([['b', 'x']]), alice);
    expect(write.statusCode).toBe(403);
    await post(
      '/content/docs.modifyAce.json',
      form([
        ['principalId', 'alice'],
        ['privilege@jcr:write', 'granted'],
      ]),
      ADMIN,
    );
    expect((await post('/content/docs/public', form([['b', 'x']]), alice)).statusCode).toBe(200);
    expect((await post('/content/docs/secret', form([['b', 'x']]), alice)).statusCode).toBe(404);

    const acl = await get('/content/docs.acl.json', ADMIN);
    expect(acl.json()).toEqual({
      alice: { principal: 'alice', granted: ['jcr:read', 'jcr:write'], denied: [], order: 0 },
    });
    expect((await get('/content/docs.acl.json', alice)).statusCode).toBe(403);

    const del = await post('/content/docs.deleteAce.json', form([[':applyTo', 'alice']]), ADMIN);
    expect(del.statusCode).toBe(200);
    expect((await get('/content/docs/public.json', alice)).statusCode).toBe(404);
  });

  it('refuses malformed access-control changes', async () => {
    const bad = await post(
      '/content/docs.modifyAce.json',
      form([
        ['principalId', 'alice'],
        ['privilege@jcr:fly', 'granted'],
      ]),
      ADMIN,
    );
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('invalid_privilege');
    const badValue = await post(
      '/content/docs.modifyAce.json',
      form([
        ['principalId', 'alice'],
        ['privilege@jcr:read', 'maybe'],
      ]),
      ADMIN,
    );
    expect(badValue.statusCode).toBe(400);
    const noPrincipal = await post(
      '/content/docs.modifyAce.json',
      form([['privilege@jcr:read', 'granted']]),
      ADMIN,
    );
    expect(noPrincipal.statusCode).toBe(400);
    const missing = await post(
      '/content/nothing.modifyAce.json',
      form([
        ['principalId', 'alice'],
        ['privilege@jcr:read', 'granted'],
      ]),
      ADMIN,
    );
    expect(missing.statusCode).toBe(404);
    const missingDelete = await post(
      '/content/nothing.deleteAce.json',
      form([[':applyTo', 'alice']]),
      ADMIN,
    );
    expect(missingDelete.statusCode).toBe(404);
  });
});

describe('authentication', () => {
  it('answers 401 with a Basic challenge for anonymous requests on author', async () => {
    const res = await get('/content.json');
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="latchkey"');
    expect(res.json().error).toBe('unauthorized');
  });

  it('refuses wrong passwords, unknown users and malformed headers without echoing them', async () => {
    for (const header of [
      basic('admin', 'wrong'),
      basic('nobody', 'x'),
      'Basic !!!notbase64',
      `Basic ${Buffer.from('nocolon').toString('base64')}`,
    ]) {
      const res = await get('/content.json', header);
      expect(res.statusCode, header).toBe(401);
      expect(res.body).not.toContain('wrong');
      expect(res.body).not.toContain('!!!');
    }
  });

  it('serves health to anyone', async () => {
    const res = await get('/system/health');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'green',
      checks: [
        { name: 'store', status: 'green' },
        { name: 'crypto', status: 'green' },
        { name: 'protected-configurations', status: 'green' },
        { name: 'ims-configurations', status: 'green' },
      ],
    });
  });
});
