import { createPrivateKey, generateKeyPairSync, randomUUID, X509Certificate } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange } from '../../src/client/exchange.js';
import type { ServiceCredentials } from '../../src/ims/credentials.js';
import { testIms } from '../helpers/ims.js';

let ims: Awaited<ReturnType<typeof testIms>>;
let creds: ServiceCredentials;
beforeAll(async () => {
  ims = await testIms();
  creds = await ims.credentials();
});
afterAll(() => ims.close());

type Claims = Record<string, unknown>;
async function jwtFor(
  claims: Claims = {},
  key = createPrivateKey(creds.integration.privateKey),
  alg = 'RS256',
) {
  const i = creds.integration;
  const base = `http://${i.imsEndpoint}`;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    [`${base}/s/ent_aem_cloud_api`]: true,
    iss: i.org,
    sub: i.id,
    aud: `${base}/c/${i.technicalAccount.clientId}`,
    exp: now + 300,
    jti: randomUUID(),
    ...claims,
  })
    .setProtectedHeader({ alg })
    .sign(key);
}
async function post(fields: Record<string, string>, path = '/ims/exchange/jwt') {
  const res = await fetch(`${ims.url}${path}`, {
    method: 'POST',
    body: new URLSearchParams(fields),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const basic = async (claims: Claims = {}) => ({
  client_id: creds.integration.technicalAccount.clientId,
  client_secret: creds.integration.technicalAccount.clientSecret,
  jwt_token: await jwtFor(claims),
});

describe('service credentials', () => {
  it('have exactly the Developer Console shape', () => {
    const i = creds.integration;
    expect(Object.keys(creds)).toEqual(['ok', 'integration', 'statusCode']);
    expect(creds.ok).toBe(true);
    expect(creds.statusCode).toBe(200);
    expect(Object.keys(i)).toEqual([
      'imsEndpoint',
      'metascopes',
      'technicalAccount',
      'email',
      'id',
      'org',
      'privateKey',
      'publicKey',
    ]);
    expect(i.technicalAccount.clientId).toBe('cm-p1-e1-integration');
    expect(i.metascopes).toBe('ent_aem_cloud_api');
    expect(i.id).toMatch(/^[0-9A-F]{24}@techacct\.adobe\.com$/);
    expect(i.email).toMatch(/^[0-9a-f-]{36}@techacct\.adobe\.com$/);
    expect(i.org).toMatch(/^[0-9A-F]{24}@AdobeOrg$/);
    expect(i.privateKey.startsWith('-----BEGIN RSA PRIVATE KEY-----\r\n')).toBe(true);
    expect(i.publicKey.startsWith('-----BEGIN CERTIFICATE-----\r\n')).toBe(true);
    expect(i.privateKey.replace(/\r\n/g, '')).not.toContain('\n');
    expect(Buffer.from(i.technicalAccount.clientSecret, 'base64url').length).toBeGreaterThanOrEqual(
      32,
    );
    const cert = new X509Certificate(i.publicKey);
    expect(cert.subject).toBe('CN=cm-p1-e1-integration');
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 864e5;
    expect(Math.round(days)).toBe(365);
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('keep only a hash of the client secret and no private key', async () => {
    const stored = JSON.stringify(
      await ims.store.getRecord('ims.integration', 'cm-p1-e1-integration'),
    );
    expect(stored).not.toContain(creds.integration.technicalAccount.clientSecret);
    expect(stored).not.toContain('PRIVATE KEY');
  });

  it('get a new client id for a second integration of the same environment', async () => {
    const second = await ims.credentials();
    expect(second.integration.technicalAccount.clientId).toBe('cm-p1-e1-integration-2');
    await expect(ims.credentials('p9-e9')).rejects.toThrow(/no environment p9-e9/);
  });
});

describe('POST /ims/exchange/jwt', () => {
  it('exchanges a signed JWT for an ES256 access token with IMS claims, verifiable with the JWKS', async () => {
    const token = await exchange(creds);
    expect(token.token_type).toBe('bearer');
    expect(token.expires_in).toBe(86_399_999);
    const jwks = createRemoteJWKSet(new URL(`${ims.url}/ims/keys`));
    const { payload, protectedHeader } = await jwtVerify(token.access_token, jwks, {
      algorithms: ['ES256'],
    });
    expect(protectedHeader.kid).toBeDefined();
    expect(payload).toMatchObject({
      type: 'access_token',
      client_id: 'cm-p1-e1-integration',
      user_id: creds.integration.id,
      as: 'latchkey',
      iss: `${ims.url}/ims`,
      expires_in: '86400000',
      scope: 'ent_aem_cloud_api',
    });
    expect(typeof payload['created_at']).toBe('string');
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(86400);
    expect(payload.jti).toBe(payload['id']);
  });

  it('answers on /ims/exchange/jwt/ and /ims/exchange/v1/jwt, urlencoded or multipart', async () => {
    for (const path of ['/ims/exchange/jwt/', '/ims/exchange/v1/jwt']) {
      expect((await post(await basic(), path)).status, path).toBe(200);
    }
    const form = new FormData();
    for (const [k, v] of Object.entries(await basic())) form.append(k, v);
    const res = await fetch(`${ims.url}/ims/exchange/jwt`, { method: 'POST', body: form });
    expect(res.status).toBe(200);
  });

  it('answers every failure with the IMS error JSON', async () => {
    const i = creds.integration;
    const now = Math.floor(Date.now() / 1000);
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const cases: [string, Record<string, string>, string, string][] = [
      [
        'unknown client',
        { ...(await basic()), client_id: 'cm-p1-e1-nope' },
        'invalid_client',
        'invalid client_id parameter',
      ],
      [
        'wrong secret',
        { ...(await basic()), client_secret: 'wrong' },
        'invalid_client',
        'invalid client_secret parameter',
      ],
      [
        'no jwt',
        { client_id: i.technicalAccount.clientId, client_secret: i.technicalAccount.clientSecret },
        'invalid_token',
        'jwt_token parameter is missing',
      ],
      [
        'garbage jwt',
        { ...(await basic()), jwt_token: 'not.a.jwt' },
        'invalid_token',
        'the JWT is malformed',
      ],
      [
        'other key',
        { ...(await basic()), jwt_token: await jwtFor({}, otherKey) },
        'invalid_signature',
        'the JWT signature does not match any certificate of this integration',
      ],
      ['expired', await basic({ exp: now - 60 }), 'invalid_token', 'the JWT has expired'],
      [
        'too far',
        await basic({ exp: now + 25 * 3600 }),
        'invalid_token',
        'the JWT expires more than 24 hours ahead',
      ],
      [
        'iss',
        await basic({ iss: 'OTHER@AdobeOrg' }),
        'invalid_token',
        'iss must be the organization id',
      ],
      [
        'sub',
        await basic({ sub: 'x@techacct.adobe.com' }),
        'invalid_token',
        'sub must be the technical account id',
      ],
      [
        'aud',
        await basic({ aud: 'https://elsewhere/c/other' }),
        'invalid_token',
        `aud must be ${ims.url}/c/${i.technicalAccount.clientId}`,
      ],
      [
        // The right client id at another IMS (ends the right way, names the wrong IMS).
        'foreign aud',
        await basic({ aud: `https://ims-na1.adobelogin.com/c/${i.technicalAccount.clientId}` }),
        'invalid_token',
        `aud must be ${ims.url}/c/${i.technicalAccount.clientId}`,
      ],
      [
        'scope',
        await basic({ [`http://${i.imsEndpoint}/s/ent_admin`]: true }),
        'invalid_scope',
        'metascope not granted to this integration: ent_admin',
      ],
    ];
    for (const [name, fields, error, description] of cases) {
      const res = await post(fields);
      expect(res.status, name).toBe(400);
      expect(res.body, name).toEqual({ error, error_description: description });
    }
    const hs = await new SignJWT({ sub: i.id })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('k'.repeat(32)));
    expect((await post({ ...(await basic()), jwt_token: hs })).body.error_description).toBe(
      'the JWT must be signed with RS256',
    );
    const noScope = await new SignJWT({
      iss: i.org,
      sub: i.id,
      aud: `${ims.url}/c/${i.technicalAccount.clientId}`,
      exp: now + 60,
    })
      .setProtectedHeader({ alg: 'RS256' })
      .sign(createPrivateKey(i.privateKey));
    expect((await post({ ...(await basic()), jwt_token: noScope })).body.error).toBe(
      'invalid_scope',
    );
  });

  it('never accepts a jti twice', async () => {
    const fields = await basic({ jti: 'once-only' });
    expect((await post(fields)).status).toBe(200);
    const again = await post({ ...(await basic({ jti: 'once-only' })) });
    expect(again.body).toEqual({
      error: 'invalid_jti',
      error_description: 'this jti was used already',
    });
    const record = await ims.store.getRecord('ims.jti', 'cm-p1-e1-integration:once-only');
    expect(record?.expiresAt).toBeGreaterThan(Date.now());
  });

  it('publishes the signing keys as a JWKS', async () => {
    const res = await fetch(`${ims.url}/ims/keys`);
    const { keys } = (await res.json()) as { keys: Record<string, string>[] };
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(keys[0]).not.toHaveProperty('d');
  });
});
