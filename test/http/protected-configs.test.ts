import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyVersion, makeKeySet } from '../../src/crypto/keyring.js';
import { protect } from '../../src/crypto/protect.js';
import { readProtectedConfig } from '../../src/protected-config/read.js';
import { stringProperty, toStored } from '../../src/repository/properties.js';
import { ADMIN, form, multipart, type TestInstance, testInstance } from '../helpers/instance.js';

let inst: TestInstance;
beforeAll(async () => {
  inst = await testInstance({ role: 'author' });
});
afterAll(() => inst.close());

const IMS: [string, string][] = [
  ['imsEndpoint', 'ims-na1.example:443'],
  ['org', '1234ABCD@AdobeOrg'],
  ['technicalAccountId', 'abcd@techacct.adobe.com'],
  ['clientId', 'cm-p1-e1-integration'],
  ['clientSecret', 'p8e-very-secret'],
  ['privateKey', '-----BEGIN RSA PRIVATE KEY-----\r\nMIIE…\r\n-----END RSA PRIVATE KEY-----\r\n'],
  ['metascopes', 'ent_aem_cloud_api'],
];
const post = (url: string, pairs: [string, string][]) =>
  inst.app.inject({
    method: 'POST',
    url,
    ...form(pairs),
    headers: { ...form([]).headers, authorization: ADMIN },
  });
const get = (url: string) => inst.app.inject({ url, headers: { authorization: ADMIN } });

describe('protected configurations', () => {
  it('stores an IMS configuration with clientSecret and privateKey sealed, never in clear', async () => {
    const res = await post('/system/console/configs/ims/default', IMS);
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.clientId).toBe('cm-p1-e1-integration');
    expect(body.clientSecret).toMatch(/^\{lk1\.[0-9a-f]{16}\./);
    expect(body.privateKey).toMatch(/^\{lk1\./);
    expect(res.body).not.toContain('p8e-very-secret');
    const node = await inst.store.getNode('/conf/latchkey/ims/default');
    expect(JSON.stringify(node)).not.toContain('p8e-very-secret');
    expect(JSON.stringify(node)).not.toContain('MIIE');
    const opened = await readProtectedConfig(inst.store, inst.keys.keyring, 'ims', 'default');
    expect(opened.clientSecret).toBe('p8e-very-secret');
    expect(opened.privateKey).toContain('MIIE');
    expect((await get('/system/console/configs/ims/default.json')).json().clientSecret).toBe(
      body.clientSecret,
    );
    const sling = await get('/conf/latchkey/ims/default.json');
    expect(sling.body).not.toContain('p8e-very-secret');
  });

  it('updates some fields and keeps the others', async () => {
    const res = await post('/system/console/configs/ims/default', [
      ['clientSecret', 'rotated-secret'],
    ]);
    expect(res.statusCode).toBe(200);
    const opened = await readProtectedConfig(inst.store, inst.keys.keyring, 'ims', 'default');
    expect(opened.clientSecret).toBe('rotated-secret');
    expect(opened.org).toBe('1234ABCD@AdobeOrg');
  });

  it('refuses unknown fields, missing required fields, bad names and foreign sealed values', async () => {
    expect(
      (await post('/system/console/configs/ims/x', [...IMS, ['colour', 'blue']])).json().error,
    ).toBe('invalid_property');
    expect(
      (await post('/system/console/configs/ims/y', IMS.slice(1))).json().error_description,
    ).toContain('imsEndpoint');
    expect((await post('/system/console/configs/ims/-bad', IMS)).statusCode).toBe(400);
    expect((await post('/system/console/configs/nope/z', IMS)).statusCode).toBe(404);
    const foreign = protect(
      {
        master: makeKeySet(generateKeyVersion('master')),
        hmac: makeKeySet(generateKeyVersion('hmac')),
        aemMaster: undefined,
      },
      'x',
    );
    const res = await post('/system/console/configs/ims/z', [
      ...IMS.filter(([k]) => k !== 'clientSecret'),
      ['clientSecret', foreign],
    ]);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('unknown_key');
  });

  it('reports in health and in the list whether every secret opens', async () => {
    const checks = (await get('/system/health')).json().checks as {
      name: string;
      status: string;
      message: string;
      fix?: string;
    }[];
    expect(checks.find((c) => c.name === 'protected-configurations')?.status).toBe('green');
    // This configuration names an IMS that does not exist: no token, and health says so.
    const ims = checks.find((c) => c.name === 'ims-configurations');
    expect(ims?.status).toBe('red');
    expect(ims?.message).toMatch(/^ims\/default: no token: /);
    expect(ims?.fix).toContain('post the current credentials again');
    const foreign = protect(
      {
        master: makeKeySet(generateKeyVersion('master')),
        hmac: makeKeySet(generateKeyVersion('hmac')),
        aemMaster: undefined,
      },
      'x',
    );
    const node = (await inst.store.getNode('/conf/latchkey/ims/default'))!;
    await inst.store.putNode({
      ...node,
      properties: { ...node.properties, clientSecret: toStored(stringProperty(foreign)) },
    });
    const health = await get('/system/health');
    expect(health.statusCode).toBe(503);
    const check = health
      .json()
      .checks.find((c: { name: string }) => c.name === 'protected-configurations');
    expect(check.status).toBe('red');
    expect(check.message).toContain('ims/default: clientSecret: sealed with master key');
    const list = (await get('/system/console/configs.json')).json();
    expect(list.configurations[0]).toMatchObject({ kind: 'ims', name: 'default', decrypts: false });
    await inst.store.putNode(node);
  });

  it('takes the private key as an uploaded file (curl -F privateKey=@private.key)', async () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nFROMFILE\n-----END RSA PRIVATE KEY-----\n';
    const body = multipart(
      IMS.filter(([k]) => k !== 'privateKey'),
      [['privateKey', 'private.key', Buffer.from(pem)]],
    );
    const res = await inst.app.inject({
      method: 'POST',
      url: '/system/console/configs/ims/uploaded',
      payload: body.payload,
      headers: { ...body.headers, authorization: ADMIN },
    });
    expect(res.statusCode).toBe(201);
    expect(
      (await readProtectedConfig(inst.store, inst.keys.keyring, 'ims', 'uploaded')).privateKey,
    ).toBe(pem);
  });

  it('is for administrators only', async () => {
    const anon = await inst.app.inject({
      method: 'POST',
      url: '/system/console/configs/ims/a',
      ...form(IMS),
    });
    expect(anon.statusCode).toBe(401);
    expect((await inst.app.inject({ url: '/system/console/configs.json' })).statusCode).toBe(401);
  });
});
