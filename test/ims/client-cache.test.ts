import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateFingerprint } from '../../src/ims/certificate-fingerprint.js';
import { clientCredentialsAt, exchangeAt } from '../helpers/exchange-jwt.js';
import { IMS_ADMIN_PASSWORD, testIms } from '../helpers/ims.js';
import { basic } from '../helpers/instance.js';

let ims: Awaited<ReturnType<typeof testIms>>;
const ADMIN = basic('admin', IMS_ADMIN_PASSWORD);
beforeAll(async () => {
  ims = await testIms();
});
afterAll(() => ims.close());

const admin = (method: string, path: string, fields?: Record<string, string>) =>
  fetch(`${ims.url}${path}`, {
    method,
    headers: { authorization: ADMIN },
    ...(fields ? { body: new URLSearchParams(fields) } : {}),
  });

/** The ims-clients cache's hits, from the IMS's metrics (as an operator reads them). */
async function cacheHits(): Promise<number> {
  const text = await (await admin('GET', '/ims/metrics')).text();
  const m = /latchkey_cache_lookups_total\{cache="ims-clients",result="hit"\} (\d+)/.exec(text);
  return Number(m?.[1] ?? 0);
}

describe('authenticated clients are cached until they change (same process)', () => {
  it('exchanges use the cached client; a revocation takes effect on the next request', async () => {
    const creds = await ims.credentials();
    expect((await exchangeAt(ims.url, creds)).status).toBe(200);
    const before = await cacheHits();
    for (let n = 0; n < 3; n++) {
      expect((await exchangeAt(ims.url, creds)).status).toBe(200);
      expect((await clientCredentialsAt(ims.url, creds)).status).toBe(200);
    }
    // Served from the cache: no store read or PEM parse per request.
    expect(await cacheHits()).toBeGreaterThanOrEqual(before + 6);

    const id = creds.integration.technicalAccount.clientId;
    expect((await admin('POST', `/ims/admin/credentials/${id}/revoke`)).status).toBe(200);
    // At once: the very next requests are refused, by both grants.
    expect(await exchangeAt(ims.url, creds)).toMatchObject({
      status: 400,
      body: { error: 'invalid_client', error_description: 'invalid client_id parameter' },
    });
    expect((await clientCredentialsAt(ims.url, creds)).body.error).toBe('invalid_client');
  });

  it('a certificate added is accepted at once, a certificate removed refused at once', async () => {
    const creds = await ims.credentials();
    // Another key pair and certificate to rotate to: those of other credentials.
    const next = await ims.credentials();
    const id = creds.integration.technicalAccount.clientId;
    expect((await exchangeAt(ims.url, creds)).status).toBe(200);
    expect((await exchangeAt(ims.url, creds, next.integration.privateKey)).body.error).toBe(
      'invalid_signature',
    );

    const added = await admin('POST', `/ims/admin/credentials/${id}/certificates`, {
      certificate: next.integration.publicKey,
    });
    expect(added.status).toBe(200);
    expect((await exchangeAt(ims.url, creds, next.integration.privateKey)).status).toBe(200);
    expect((await exchangeAt(ims.url, creds)).status).toBe(200);

    const old = certificateFingerprint(creds.integration.publicKey);
    const removed = await admin('DELETE', `/ims/admin/credentials/${id}/certificates/${old}`);
    expect(removed.status).toBe(200);
    expect(await exchangeAt(ims.url, creds)).toMatchObject({
      status: 400,
      body: {
        error: 'invalid_signature',
        error_description: 'the JWT signature does not match any certificate of this integration',
      },
    });
    expect((await exchangeAt(ims.url, creds, next.integration.privateKey)).status).toBe(200);
  });
});
