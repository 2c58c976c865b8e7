import { createPrivateKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceCredentials } from '../../src/ims/credentials.js';
import { testIms } from '../helpers/ims.js';

// Every claim the metadata makes is exercised from the document itself, so that what is advertised
// and what works cannot drift apart.

let ims: Awaited<ReturnType<typeof testIms>>;
let creds: ServiceCredentials;
let doc: Record<string, unknown>;
beforeAll(async () => {
  ims = await testIms();
  creds = await ims.credentials();
  doc = (await (await fetch(`${ims.url}/ims/.well-known/openid-configuration`)).json()) as Record<
    string,
    unknown
  >;
});
afterAll(() => ims.close());

const clientId = () => creds.integration.technicalAccount.clientId;
const secret = () => creds.integration.technicalAccount.clientSecret;
const list = (name: string) => doc[name] as string[];
const url = (name: string) => doc[name] as string;

/** The exchange JWT of the service credentials: also the RFC 7523 grant's assertion. */
function exchangeJwt(metascopes = ['ent_aem_cloud_api']): Promise<string> {
  const i = creds.integration;
  const claims: Record<string, unknown> = { jti: randomUUID() };
  for (const m of metascopes) claims[`${ims.url}/s/${m}`] = true;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(i.org)
    .setSubject(i.id)
    .setAudience(`${ims.url}/c/${i.technicalAccount.clientId}`)
    .setExpirationTime('5m')
    .sign(createPrivateKey(i.privateKey));
}

/** Client authentication by `method`, as headers and form fields. */
async function authenticate(
  method: string,
  endpoint: string,
): Promise<{ headers: Record<string, string>; fields: Record<string, string> }> {
  switch (method) {
    case 'client_secret_basic':
      return {
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId()}:${secret()}`).toString('base64')}`,
        },
        fields: {},
      };
    case 'client_secret_post':
      return { headers: {}, fields: { client_id: clientId(), client_secret: secret() } };
    case 'private_key_jwt': {
      const jwt = await new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({
          alg: list(`${endpoint}_endpoint_auth_signing_alg_values_supported`)[0]!,
        })
        .setIssuer(clientId())
        .setSubject(clientId())
        .setAudience(url('issuer'))
        .setExpirationTime('60s')
        .sign(createPrivateKey(creds.integration.privateKey));
      return {
        headers: {},
        fields: {
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: jwt,
        },
      };
    }
  }
  throw new Error(`the metadata advertises an unknown method ${method}`);
}

async function post(target: string, fields: Record<string, string>, headers = {}) {
  const res = await fetch(target, { method: 'POST', headers, body: new URLSearchParams(fields) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function token(fields: Record<string, string>): Promise<string> {
  const res = await post(url('token_endpoint'), {
    grant_type: 'client_credentials',
    client_id: clientId(),
    client_secret: secret(),
    ...fields,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return String(res.body['access_token']);
}

describe('the metadata documents', () => {
  it('are one document at the OpenID Discovery and RFC 8414 locations, issuer = <public URL>/ims', async () => {
    const rfc8414 = await (
      await fetch(`${ims.url}/.well-known/oauth-authorization-server/ims`)
    ).json();
    expect(rfc8414).toEqual(doc);
    expect(doc['issuer']).toBe(`${ims.url}/ims`);
    expect(doc['issuer']).toBe(ims.publicUrl.issuer);
  });

  it('hold every field OpenID Discovery 1.0 and RFC 8414 require', () => {
    for (const name of [
      'issuer',
      'authorization_endpoint',
      'token_endpoint',
      'jwks_uri',
      'response_types_supported',
      'subject_types_supported',
      'id_token_signing_alg_values_supported',
    ])
      expect(doc, name).toHaveProperty(name);
    expect(list('id_token_signing_alg_values_supported')).toContain('RS256');
    // RFC 8414: every *_endpoint is an https or http URL under the issuer's origin.
    for (const [name, value] of Object.entries(doc).filter(([n]) => n.endsWith('_endpoint')))
      expect(String(value).startsWith(`${ims.url}/`), name).toBe(true);
  });
});

describe('everything advertised works', () => {
  for (const endpoint of ['token', 'revocation', 'introspection']) {
    it(`${endpoint}_endpoint: each advertised client authentication method`, async () => {
      const methods = list(`${endpoint}_endpoint_auth_methods_supported`);
      expect(methods.length).toBeGreaterThan(0);
      for (const method of methods) {
        const { headers, fields } = await authenticate(method, endpoint);
        const body =
          endpoint === 'token'
            ? { grant_type: 'client_credentials', ...fields }
            : { token: await token({}), ...fields };
        const res = await post(url(`${endpoint}_endpoint`), body, headers);
        expect(res.status, `${endpoint} ${method}: ${JSON.stringify(res.body)}`).toBe(200);
        if (endpoint === 'introspection') expect(res.body['active']).toBe(true);
      }
    });
  }

  it('each advertised grant type', async () => {
    for (const grant of list('grant_types_supported')) {
      const fields: Record<string, string> =
        grant === 'client_credentials'
          ? { grant_type: grant }
          : { grant_type: grant, assertion: await exchangeJwt() };
      const res = await post(url('token_endpoint'), {
        ...fields,
        client_id: clientId(),
        client_secret: secret(),
      });
      expect(res.status, `${grant}: ${JSON.stringify(res.body)}`).toBe(200);
      expect(res.body).toMatchObject({ token_type: 'bearer', expires_in: 86399 });
    }
  });

  it('each advertised scope can be asked for', async () => {
    for (const scope of list('scopes_supported')) await token({ scope });
  });

  it('the jwks_uri holds the key of the tokens and userinfo answers for them', async () => {
    const access = await token({});
    const jwks = (await (await fetch(url('jwks_uri'))).json()) as { keys: { kid: string }[] };
    const kid = JSON.parse(Buffer.from(access.split('.')[0]!, 'base64url').toString()).kid;
    expect(jwks.keys.map((k) => k.kid)).toContain(kid);
    // OpenID Connect: userinfo by GET and by POST (header, or RFC 6750's access_token field).
    for (const init of [
      { headers: { authorization: `Bearer ${access}` } },
      { method: 'POST', headers: { authorization: `Bearer ${access}` } },
      { method: 'POST', body: new URLSearchParams({ access_token: access }) },
    ]) {
      const info = await fetch(url('userinfo_endpoint'), init);
      expect(await info.json()).toMatchObject({ sub: creds.integration.id });
    }
    const twice = await fetch(url('userinfo_endpoint'), {
      method: 'POST',
      headers: { authorization: `Bearer ${access}` },
      body: new URLSearchParams({ access_token: access }),
    });
    expect(twice.status).toBe(400);
    const none = await fetch(url('userinfo_endpoint'), { method: 'POST' });
    expect([none.status, none.headers.get('www-authenticate')]).toEqual([
      401,
      'Bearer error="invalid_token"',
    ]);
  });

  it('the authorization endpoint exists and supports no response type, as advertised', async () => {
    expect(list('response_types_supported')).toEqual([]);
    // Both documents default these to supported when left out.
    expect(doc['response_modes_supported']).toEqual([]);
    expect(doc['request_uri_parameter_supported']).toBe(false);
    const posted = await fetch(url('authorization_endpoint'), {
      method: 'POST',
      body: new URLSearchParams({ response_type: 'code', client_id: clientId() }),
    });
    expect([posted.status, ((await posted.json()) as { error: string }).error]).toEqual([
      400,
      'unsupported_response_type',
    ]);
    const res = await fetch(
      `${url('authorization_endpoint')}?response_type=code&client_id=${clientId()}&redirect_uri=https://evil.example/`,
      { redirect: 'manual' },
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(((await res.json()) as { error: string }).error).toBe('unsupported_response_type');
  });
});

describe('the RFC 7523 jwt-bearer grant', () => {
  const grant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
  const client = () => ({ client_id: clientId(), client_secret: secret() });

  it('narrows to a requested scope, refuses a replayed or foreign assertion with invalid_grant', async () => {
    const jwt = await exchangeJwt();
    const ok = await post(url('token_endpoint'), {
      grant_type: grant,
      assertion: jwt,
      scope: 'ent_aem_cloud_api',
      ...client(),
    });
    expect(ok.body['scope']).toBe('ent_aem_cloud_api');
    const replay = await post(url('token_endpoint'), {
      grant_type: grant,
      assertion: jwt,
      ...client(),
    });
    expect([replay.status, replay.body.error]).toEqual([400, 'invalid_grant']);
    const missing = await post(url('token_endpoint'), { grant_type: grant, ...client() });
    expect(missing.body).toEqual({
      error: 'invalid_grant',
      error_description: 'assertion parameter is missing',
    });
    const other = await ims.credentials();
    const foreign = await post(url('token_endpoint'), {
      grant_type: grant,
      assertion: await exchangeJwt(),
      client_id: other.integration.technicalAccount.clientId,
      client_secret: other.integration.technicalAccount.clientSecret,
    });
    expect([foreign.status, foreign.body.error]).toEqual([400, 'invalid_grant']);
    const wider = await post(url('token_endpoint'), {
      grant_type: grant,
      assertion: await exchangeJwt(),
      scope: 'openid',
      ...client(),
    });
    expect(wider.body.error).toBe('invalid_scope');
  });
});

describe('RFC 7662 introspection', () => {
  it('describes the client’s own valid tokens, and nothing else', async () => {
    const access = await token({ scope: 'ent_aem_cloud_api openid' });
    const res = await post(url('introspection_endpoint'), {
      token: access,
      ...{ client_id: clientId(), client_secret: secret() },
    });
    expect(res.body).toMatchObject({
      active: true,
      client_id: clientId(),
      scope: 'ent_aem_cloud_api openid',
      token_type: 'Bearer',
      sub: creds.integration.id,
      iss: url('issuer'),
    });
    const other = await ims.credentials();
    const foreign = await post(url('introspection_endpoint'), {
      token: access,
      client_id: other.integration.technicalAccount.clientId,
      client_secret: other.integration.technicalAccount.clientSecret,
    });
    expect(foreign.body).toEqual({ active: false });
    // RFC 7662, 2.3: bad client credentials are a 401 at introspection, also in the body.
    const unauthenticated = await fetch(url('introspection_endpoint'), {
      method: 'POST',
      body: new URLSearchParams({ token: access, client_id: clientId(), client_secret: 'wrong' }),
    });
    expect([unauthenticated.status, unauthenticated.headers.get('www-authenticate')]).toEqual([
      401,
      'Basic realm="ims", charset="UTF-8"',
    ]);
    await post(url('revocation_endpoint'), {
      token: access,
      client_id: clientId(),
      client_secret: secret(),
    });
    expect(
      (
        await post(url('introspection_endpoint'), {
          token: access,
          client_id: clientId(),
          client_secret: secret(),
        })
      ).body,
    ).toEqual({ active: false });
    expect(
      (
        await post(url('introspection_endpoint'), {
          token: 'garbage',
          client_id: clientId(),
          client_secret: secret(),
        })
      ).body,
    ).toEqual({ active: false });
  });
});
