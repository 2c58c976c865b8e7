import { createPrivateKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceCredentials } from '../../src/ims/credentials.js';
import { testIms } from '../helpers/ims.js';

let ims: Awaited<ReturnType<typeof testIms>>;
let creds: ServiceCredentials;
let other: ServiceCredentials;
beforeAll(async () => {
  // Many refused assertions from one address on purpose: the throttle (test/security/) would
  // answer 429 after five.
  ims = await testIms({
    'throttle.maxFailuresPerUser': 1000,
    'throttle.maxFailuresPerAddress': 1000,
  });
  creds = await ims.credentials();
  other = await ims.credentials();
});
afterAll(() => ims.close());

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const id = () => creds.integration.technicalAccount.clientId;
const secret = () => creds.integration.technicalAccount.clientSecret;
const basicOf = (user: string, password: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(user)}:${encodeURIComponent(password)}`).toString('base64')}`;

async function post(
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${ims.url}${path}`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(fields),
  });
  return {
    status: res.status,
    challenge: res.headers.get('www-authenticate'),
    body: (await res.json()) as Record<string, unknown>,
  };
}

/** A private_key_jwt client assertion (RFC 7523, section 2.2), signed with `c`'s key. */
function assertion(
  c: ServiceCredentials,
  claims: Record<string, unknown> = {},
  lifetimeS = 60,
): Promise<string> {
  const clientId = c.integration.technicalAccount.clientId;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    jti: randomUUID(),
    iss: clientId,
    sub: clientId,
    aud: `${ims.url}/ims`,
    iat: now,
    exp: now + lifetimeS,
    ...claims,
  })
    .setProtectedHeader({ alg: 'RS256' })
    .sign(createPrivateKey(c.integration.privateKey));
}

const grant = { grant_type: 'client_credentials' };

describe('client authentication on the token, revocation and introspection endpoints', () => {
  for (const path of ['/ims/token/v3', '/ims/revoke', '/ims/introspect']) {
    const fields = path === '/ims/token/v3' ? grant : { token: 'x' };
    it(`${path}: client_secret_basic, client_secret_post and private_key_jwt are accepted`, async () => {
      expect((await post(path, fields, { authorization: basicOf(id(), secret()) })).status).toBe(
        200,
      );
      expect(
        (await post(path, { ...fields, client_id: id(), client_secret: secret() })).status,
      ).toBe(200);
      const jwt = await assertion(creds);
      expect(
        (
          await post(path, {
            ...fields,
            client_assertion_type: ASSERTION_TYPE,
            client_assertion: jwt,
          })
        ).status,
      ).toBe(200);
    });

    it(`${path}: a failed Basic attempt is 401 with WWW-Authenticate (RFC 6749, 5.2)`, async () => {
      const res = await post(path, fields, { authorization: basicOf(id(), 'wrong') });
      expect(res.status).toBe(401);
      expect(res.challenge).toMatch(/^Basic realm=/);
      expect(res.body).toEqual({
        error: 'invalid_client',
        error_description: 'invalid client_secret parameter',
      });
      const unknown = await post(path, fields, { authorization: basicOf('nobody', 'x') });
      expect([unknown.status, unknown.body.error]).toEqual([401, 'invalid_client']);
      const garbled = await post(path, fields, { authorization: 'Basic %%%' });
      expect([garbled.status, garbled.body.error, garbled.challenge?.startsWith('Basic')]).toEqual([
        401,
        'invalid_client',
        true,
      ]);
    });
  }

  it('decodes Basic credentials as RFC 6749 appendix B says (form-urlencoded, then base64)', async () => {
    // The secret's first character percent-encoded: a server that skips the decoding refuses it.
    const s = secret();
    const escaped = `%${s.charCodeAt(0).toString(16).toUpperCase()}${s.slice(1)}`;
    const encoded = Buffer.from(`${id()}:${escaped}`).toString('base64');
    expect((await post('/ims/token/v3', grant, { authorization: `Basic ${encoded}` })).status).toBe(
      200,
    );
  });

  it('refuses two methods at once, and a client_id that contradicts Basic', async () => {
    const both = await post(
      '/ims/token/v3',
      { ...grant, client_secret: secret() },
      { authorization: basicOf(id(), secret()) },
    );
    expect([both.status, both.body.error]).toEqual([400, 'invalid_request']);
    const contradicting = await post(
      '/ims/token/v3',
      { ...grant, client_id: other.integration.technicalAccount.clientId },
      { authorization: basicOf(id(), secret()) },
    );
    expect([contradicting.status, contradicting.body.error]).toEqual([400, 'invalid_request']);
    const mixed = await post('/ims/token/v3', {
      ...grant,
      client_secret: secret(),
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await assertion(creds),
    });
    expect([mixed.status, mixed.body.error]).toEqual([400, 'invalid_request']);
  });

  it('a client_secret_post failure keeps Adobe IMS behaviour: 400 invalid_client', async () => {
    const res = await post('/ims/token/v3', { ...grant, client_id: id(), client_secret: 'x' });
    expect([res.status, res.challenge, res.body.error]).toEqual([400, null, 'invalid_client']);
  });
});

describe('private_key_jwt client assertions (attacks)', () => {
  const withAssertion = (jwt: string, clientId?: string) =>
    post('/ims/token/v3', {
      ...grant,
      ...(clientId ? { client_id: clientId } : {}),
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: jwt,
    });

  it('a replayed assertion is refused (jti replay cache), also when sent concurrently', async () => {
    const jwt = await assertion(creds);
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => withAssertion(jwt)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 200))
      expect(r.body).toEqual({
        error: 'invalid_client',
        error_description: 'client_assertion jti was used already',
      });
  });

  it('an assertion signed with another integration’s key, naming this client, is refused', async () => {
    const forged = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(id())
      .setSubject(id())
      .setAudience(`${ims.url}/ims`)
      .setExpirationTime('60s')
      .sign(createPrivateKey(other.integration.privateKey));
    const res = await withAssertion(forged);
    expect([res.status, res.body.error]).toEqual([400, 'invalid_client']);
    expect(res.body.error_description).toMatch(/signature/);
  });

  it('refuses a foreign audience, iss other than sub, no jti, a far expiry, an expired one, HS256', async () => {
    const refused = async (jwt: string, why: RegExp, clientId?: string) => {
      const res = await withAssertion(jwt, clientId);
      expect([res.status, res.body.error], String(res.body.error_description)).toEqual([
        400,
        'invalid_client',
      ]);
      expect(res.body.error_description).toMatch(why);
    };
    await refused(await assertion(creds, { aud: 'https://elsewhere.example/ims' }), /aud/);
    await refused(await assertion(creds, { iss: 'someone-else' }), /iss and sub/);
    await refused(
      await new SignJWT({})
        .setProtectedHeader({ alg: 'RS256' })
        .setIssuer(id())
        .setSubject(id())
        .setAudience(`${ims.url}/ims`)
        .setExpirationTime('60s')
        .sign(createPrivateKey(creds.integration.privateKey)),
      /jti/,
    );
    await refused(await assertion(creds, {}, 7200), /more than an hour/);
    await refused(await assertion(creds, { exp: Math.floor(Date.now() / 1000) - 120 }), /expired/);
    const hs = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(id())
      .setSubject(id())
      .setAudience(`${ims.url}/ims`)
      .setExpirationTime('60s')
      .sign(new TextEncoder().encode(secret()));
    await refused(hs, /RS256/);
    // The client_id field, when sent, must be the assertion's subject.
    await refused(
      await assertion(creds),
      /sub must be the client_id/,
      other.integration.technicalAccount.clientId,
    );
    await refused('not.a.jwt', /malformed/);
  });

  it('accepts the token endpoint URL and the endpoint’s own URL as audience', async () => {
    for (const aud of [`${ims.url}/ims/token/v3`, `${ims.url}/ims/revoke`]) {
      const path = aud.endsWith('revoke') ? '/ims/revoke' : '/ims/token/v3';
      const res = await post(path, {
        ...(path === '/ims/revoke' ? { token: 'x' } : grant),
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await assertion(creds, { aud }),
      });
      expect(res.status, aud).toBe(200);
    }
  });
});
