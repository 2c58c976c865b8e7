import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange } from '../../src/client/exchange.js';
import type { ServiceCredentials } from '../../src/ims/credentials.js';
import { IMS_ADMIN_PASSWORD, testIms } from '../helpers/ims.js';
import { basic } from '../helpers/instance.js';

let ims: Awaited<ReturnType<typeof testIms>>;
const ADMIN = basic('admin', IMS_ADMIN_PASSWORD);
beforeAll(async () => {
  ims = await testIms();
});
afterAll(() => ims.close());

const call = async (
  method: string,
  path: string,
  fields: Record<string, string> = {},
  auth: string = ADMIN,
) => {
  const res = await fetch(`${ims.url}${path}`, {
    method,
    headers: auth === '' ? {} : { authorization: auth },
    ...(method === 'POST' ? { body: new URLSearchParams(fields) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('IMS admin API', () => {
  it('is for IMS administrators only', async () => {
    expect(
      (await call('POST', '/ims/admin/credentials', { environment: 'p1-e1' }, '')).status,
    ).toBe(401);
    expect(
      (
        await call(
          'POST',
          '/ims/admin/credentials',
          { environment: 'p1-e1' },
          basic('admin', 'wrong'),
        )
      ).status,
    ).toBe(401);
  });

  it('creates credentials that work, and revokes them', async () => {
    const created = await call('POST', '/ims/admin/credentials', { environment: 'p1-e1' });
    expect(created.status).toBe(201);
    const creds = created.body as unknown as ServiceCredentials;
    expect(creds.integration.imsEndpoint).toBe(ims.endpoint);
    await expect(exchange(creds)).resolves.toMatchObject({ token_type: 'bearer' });
    const revoked = await call(
      'POST',
      `/ims/admin/credentials/${creds.integration.technicalAccount.clientId}/revoke`,
    );
    expect(revoked.status).toBe(200);
    await expect(exchange(creds)).rejects.toMatchObject({ code: 'invalid_client' });
    expect((await call('POST', '/ims/admin/credentials', { environment: 'p9-e9' })).status).toBe(
      404,
    );
    expect((await call('POST', '/ims/admin/credentials', { environment: 'nonsense' })).status).toBe(
      400,
    );
  });

  it('rotates an integration certificate: both keys work during rotation, then only the new one', async () => {
    const a = (await call('POST', '/ims/admin/credentials', { environment: 'p1-e1' }))
      .body as unknown as ServiceCredentials;
    const b = (await call('POST', '/ims/admin/credentials', { environment: 'p1-e1' }))
      .body as unknown as ServiceCredentials;
    const clientId = a.integration.technicalAccount.clientId;
    // A new key pair for integration A: reuse B's key and certificate as the "new" ones.
    const added = await call('POST', `/ims/admin/credentials/${clientId}/certificates`, {
      certificate: b.integration.publicKey,
    });
    // The answer names the new certificate by the fingerprint removal takes: lowercase hex.
    const newPrint = new X509Certificate(b.integration.publicKey).fingerprint256;
    expect(added.body).toEqual({
      certificates: 2,
      fingerprint: newPrint.replaceAll(':', '').toLowerCase(),
    });
    const withKey = { integration: { ...a.integration, privateKey: b.integration.privateKey } };
    await expect(exchange(a)).resolves.toBeDefined(); // old key
    await expect(exchange(withKey)).resolves.toBeDefined(); // new key
    const remove = (print: string) =>
      call(
        'DELETE',
        `/ims/admin/credentials/${clientId}/certificates/${encodeURIComponent(print)}`,
      );
    // Not a fingerprint at all: said so, nothing removed.
    for (const bad of ['AB:CD', 'zz'.repeat(32), `${'a'.repeat(63)}:`]) {
      const r = await remove(bad);
      expect(r.status, bad).toBe(400);
      expect(r.body['error']).toBe('invalid_request');
    }
    // A fingerprint of no certificate of this integration.
    expect((await remove('0'.repeat(64))).status).toBe(404);
    // As openssl and Node print it: uppercase with colons.
    const oldPrint = new X509Certificate(a.integration.publicKey).fingerprint256;
    expect(oldPrint).toMatch(/^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/);
    const removed = await remove(oldPrint);
    expect(removed.body).toEqual({ certificates: 1 });
    await expect(exchange(a)).rejects.toMatchObject({ code: 'invalid_signature' });
    await expect(exchange(withKey)).resolves.toBeDefined();
    // The last one stays, in whichever form it is named (the add answer's, or lowercase with colons).
    for (const last of [String(added.body['fingerprint']), newPrint.toLowerCase()]) {
      const r = await remove(last);
      expect(r.status).toBe(409);
      expect(r.body).toMatchObject({
        error: 'conflict',
        error_description: 'an integration keeps at least one certificate',
      });
    }
    expect(
      (
        await call('POST', `/ims/admin/credentials/${clientId}/certificates`, {
          certificate: 'nope',
        })
      ).status,
    ).toBe(400);
  });

  it('takes the certificate as an uploaded file too (curl -F certificate=@cert.pem)', async () => {
    const a = (await call('POST', '/ims/admin/credentials', { environment: 'p1-e1' }))
      .body as unknown as ServiceCredentials;
    const b = (await call('POST', '/ims/admin/credentials', { environment: 'p1-e1' }))
      .body as unknown as ServiceCredentials;
    const upload = new FormData();
    upload.append('certificate', new Blob([b.integration.publicKey]), 'cert.pem');
    const res = await fetch(
      `${ims.url}/ims/admin/credentials/${a.integration.technicalAccount.clientId}/certificates`,
      {
        method: 'POST',
        headers: { authorization: ADMIN },
        body: upload,
      },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ certificates: 2 });
  });

  it('hands out development tokens', async () => {
    const res = await call('POST', '/ims/admin/dev-token', { user: 'bob', environment: 'p1-e1' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, statusCode: 200 });
    const payload = JSON.parse(
      Buffer.from(String(res.body['accessToken']).split('.')[1]!, 'base64url').toString(),
    );
    expect(payload).toMatchObject({ user_id: 'bob', env: 'p1-e1' });
  });
});
