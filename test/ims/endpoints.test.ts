import { sign } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange } from '../../src/client/exchange.js';
import { lowSCompactJws } from '../../src/crypto/ecdsa-low-s.js';
import type { ServiceCredentials } from '../../src/ims/credentials.js';
import { revokeIntegration } from '../../src/ims/revocation.js';
import { loadSigningKeys } from '../../src/ims/signing-keys.js';
import { testIms } from '../helpers/ims.js';
import { type TestInstance, testInstance } from '../helpers/instance.js';

let ims: Awaited<ReturnType<typeof testIms>>;
let creds: ServiceCredentials;
let author: TestInstance;
beforeAll(async () => {
  ims = await testIms();
  creds = await ims.credentials();
  author = await testInstance({ role: 'author', 'ims.url': ims.url, 'ims.revocationPollMs': 1000 });
});
afterAll(async () => {
  await author.close();
  await ims.close();
});

const post = async (path: string, fields: Record<string, string>, query = '') => {
  const res = await fetch(`${ims.url}${path}${query}`, {
    method: 'POST',
    body: new URLSearchParams(fields),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const client = () => ({
  client_id: creds.integration.technicalAccount.clientId,
  client_secret: creds.integration.technicalAccount.clientSecret,
});
const onAuthor = (token: string) =>
  author.app.inject({ url: '/content/dam.json', headers: { authorization: `Bearer ${token}` } });
async function eventually(check: () => Promise<boolean>, ms = 5000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe('POST /ims/token/v3 (client credentials)', () => {
  it('issues a token with expires_in in seconds, from the body or the query', async () => {
    const res = await post('/ims/token/v3', {
      grant_type: 'client_credentials',
      ...client(),
      scope: 'ent_aem_cloud_api',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'bearer', expires_in: 86399 });
    expect((await onAuthor(String(res.body['access_token']))).statusCode).toBe(200);
    const q = new URLSearchParams({ grant_type: 'client_credentials', ...client() });
    expect((await post('/ims/token/v3', {}, `?${q}`)).status).toBe(200);
  });

  it('refuses other grants, ungranted scopes and bad clients', async () => {
    expect((await post('/ims/token/v3', { grant_type: 'password', ...client() })).body.error).toBe(
      'unsupported_grant_type',
    );
    expect(
      (
        await post('/ims/token/v3', {
          grant_type: 'client_credentials',
          ...client(),
          scope: 'admin',
        })
      ).body,
    ).toEqual({
      error: 'invalid_scope',
      error_description: 'scope not granted to this integration: admin',
    });
    expect(
      (
        await post('/ims/token/v3', {
          grant_type: 'client_credentials',
          ...client(),
          client_secret: 'x',
        })
      ).body.error,
    ).toBe('invalid_client');
  });
});

describe('validate, profile, discovery', () => {
  it('validates tokens it issued and nothing else', async () => {
    const { access_token } = await exchange(creds);
    const ok = await post('/ims/validate_token/v1', { token: access_token, type: 'access_token' });
    expect(ok.body['valid']).toBe(true);
    expect((ok.body['token'] as Record<string, unknown>)['client_id']).toBe('cm-p1-e1-integration');
    expect((await post('/ims/validate_token/v1', { token: 'nope' })).body).toEqual({
      valid: false,
      reason: 'malformed token',
    });
    expect(
      (await post('/ims/validate_token/v1', { token: `${access_token.slice(0, -3)}AAA` })).body,
    ).toEqual({ valid: false, reason: 'bad signature' });
  });

  // Found by the attack campaign (test/attack/jwt.test.ts): validate_token took any JWT its
  // key signed with a future exp, whatever its type or claims, while instances refused it.
  it('holds a token to the instances’ claim rules: type access_token, client and user strings', async () => {
    const [key] = await loadSigningKeys(ims.store, ims.keys.keyring, 'ES256');
    const now = Math.floor(Date.now() / 1000);
    const good = {
      type: 'access_token',
      client_id: 'c',
      user_id: 'u',
      exp: now + 600,
      iss: ims.publicUrl.issuer,
    };
    const signed = async (claims: Record<string, unknown>) =>
      lowSCompactJws(
        await new SignJWT(claims)
          .setProtectedHeader({ alg: 'ES256', kid: key!.kid, typ: 'JWT' })
          .sign(key!.privateKey),
      );
    const check = async (claims: Record<string, unknown>) =>
      (await post('/ims/validate_token/v1', { token: await signed(claims) })).body;
    expect(await check(good)).toMatchObject({ valid: true });
    // A header member marked critical is refused (RFC 7515 4.1.11): the IMS never writes one.
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${b64({ alg: 'ES256', kid: key!.kid, typ: 'JWT', crit: ['x-lk'], 'x-lk': 1 })}.${b64(good)}`;
    const crit = lowSCompactJws(
      `${input}.${sign('sha256', Buffer.from(input), { key: key!.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`,
    );
    expect((await post('/ims/validate_token/v1', { token: crit })).body).toMatchObject({
      valid: false,
    });
    for (const bad of [
      { ...good, type: 'id_token' },
      { ...good, type: undefined },
      { ...good, client_id: 42 },
      { ...good, user_id: ['admin'] },
      { ...good, iss: 'https://ims.example/ims' },
      { ...good, iss: undefined },
      { ...good, nbf: now + 3600 },
    ]) {
      expect(await check(bad)).toMatchObject({ valid: false });
    }
  });

  it('answers the profile of a token', async () => {
    const { access_token } = await exchange(creds);
    const res = await fetch(`${ims.url}/ims/profile/v1`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(await res.json()).toMatchObject({
      userId: creds.integration.id,
      account_type: 'technical',
    });
    expect((await fetch(`${ims.url}/ims/profile/v1`)).status).toBe(401);
  });

  it('publishes an OpenID discovery document', async () => {
    const doc = (await (
      await fetch(`${ims.url}/ims/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    expect(doc).toMatchObject({
      jwks_uri: `${ims.url}/ims/keys`,
      token_endpoint: `${ims.url}/ims/token/v3`,
      revocation_endpoint: `${ims.url}/ims/revoke`,
    });
  });
});

describe('revocation', () => {
  it('revokes one token (RFC 7009): the IMS at once, instances within their poll interval', async () => {
    const { access_token } = await exchange(creds);
    const other = (await exchange(creds)).access_token;
    expect((await onAuthor(access_token)).statusCode).toBe(200); // now cached as verified
    const res = await post('/ims/revoke', {
      token: access_token,
      token_type_hint: 'access_token',
      ...client(),
    });
    expect(res.status).toBe(200);
    expect((await post('/ims/validate_token/v1', { token: access_token })).body).toEqual({
      valid: false,
      reason: 'revoked',
    });
    expect(await eventually(async () => (await onAuthor(access_token)).statusCode === 401)).toBe(
      true,
    );
    expect((await onAuthor(access_token)).json().error_description).toBe('access token revoked');
    expect((await onAuthor(other)).statusCode).toBe(200);
    // Unknown tokens are answered 200 too; a client must authenticate.
    expect((await post('/ims/revoke', { token: 'garbage', ...client() })).status).toBe(200);
    expect((await post('/ims/revoke', { token: other })).body.error).toBe('invalid_client');
  });

  it('revokes an integration: secret, certificates and every token issued to it', async () => {
    const second = await ims.credentials();
    const { access_token } = await exchange(second);
    expect((await onAuthor(access_token)).statusCode).toBe(200);
    await revokeIntegration(ims.store, second.integration.technicalAccount.clientId);
    await expect(exchange(second)).rejects.toThrow('invalid client_id parameter');
    expect((await post('/ims/validate_token/v1', { token: access_token })).body['reason']).toBe(
      'revoked',
    );
    expect(await eventually(async () => (await onAuthor(access_token)).statusCode === 401)).toBe(
      true,
    );
    const fresh = (await exchange(creds)).access_token;
    expect((await onAuthor(fresh)).statusCode).toBe(200); // other integrations unaffected
  });
});
