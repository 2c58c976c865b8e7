import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateKey } from '../../src/crypto/rotate.js';
import { unprotect } from '../../src/crypto/unprotect.js';
import { ADMIN, basic, form, type TestInstance, testInstance } from '../helpers/instance.js';

let inst: TestInstance;
beforeAll(async () => {
  inst = await testInstance({ role: 'author' });
  await inst.app.inject({
    method: 'POST',
    url: '/libs/granite/security/post/authorizables',
    ...form([
      ['createUser', ''],
      ['authorizableId', 'plain'],
      ['rep:password', 'plain-pw'],
    ]),
    headers: { ...form([]).headers, authorization: ADMIN },
  });
});
afterAll(() => inst.close());

const post = (url: string, pairs: [string, string][], authorization = ADMIN) =>
  inst.app.inject({
    method: 'POST',
    url,
    ...form(pairs),
    headers: { ...form([]).headers, authorization },
  });

describe('crypto console', () => {
  it('protects a datum as AEM does: {"protected":"{…}"}', async () => {
    const res = await post('/system/console/crypto/.json', [['datum', 'client-secret']]);
    expect(res.statusCode).toBe(200);
    const sealed = res.json().protected as string;
    expect(sealed).toMatch(/^\{lk1\.[0-9a-f]{16}\.[A-Za-z0-9_-]+\}$/);
    expect(unprotect(inst.keys.keyring, sealed)).toBe('client-secret');
  });

  it('is for administrators only and needs datum', async () => {
    expect(
      (await post('/system/console/crypto/.json', [['datum', 'x']], basic('plain', 'plain-pw')))
        .statusCode,
    ).toBe(403);
    const anon = await inst.app.inject({
      method: 'POST',
      url: '/system/console/crypto/.json',
      ...form([['datum', 'x']]),
    });
    expect(anon.statusCode).toBe(401);
    const none = await post('/system/console/crypto/.json', []);
    expect(none.statusCode).toBe(400);
    expect(none.json().error).toBe('invalid_request');
  });

  it('reloads rotated keys without a restart', async () => {
    const before = inst.keys.keyring.master.primary.id;
    const sealedBefore = (await post('/system/console/crypto/.json', [['datum', 'old']])).json()
      .protected;
    const { current } = await rotateKey(inst.keys.location, 'master');
    expect(inst.keys.keyring.master.primary.id).toBe(before); // not yet
    const res = await post('/system/console/crypto/refresh', []);
    expect(res.statusCode).toBe(200);
    expect(res.json().master).toEqual({ primary: current, versions: [current, before] });
    const sealedAfter = (await post('/system/console/crypto/.json', [['datum', 'new']])).json()
      .protected as string;
    expect(sealedAfter.startsWith(`{lk1.${current}.`)).toBe(true);
    expect(unprotect(inst.keys.keyring, sealedBefore)).toBe('old');
    expect(
      (await post('/system/console/crypto/refresh', [], basic('plain', 'plain-pw'))).statusCode,
    ).toBe(403);
  });

  it('protects /etc/key from Sling POST', async () => {
    const res = await post('/etc/key', [['master', 'x']]);
    expect(res.statusCode).toBe(403);
  });
});
