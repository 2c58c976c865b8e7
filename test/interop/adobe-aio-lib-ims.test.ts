import { createPrivateKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceCredentials } from '../../src/ims/credentials.js';
import { testIms } from '../helpers/ims.js';
import { type TestInstance, testInstance } from '../helpers/instance.js';

interface TokenResult {
  access_token: { token: string; expiry: number };
  payload: Record<string, unknown>;
}
// The real, unmodified @adobe/aio-lib-ims from npm; its Ims instance's `endpoint` set to latchkey's IMS.
const { Ims } = (await import('@adobe/aio-lib-ims')) as unknown as {
  Ims: (new (
    env?: string,
  ) => {
    endpoint: string;
    exchangeJwtToken(clientId: string, secret: string, jwt: string): Promise<TokenResult>;
    getAccessTokenByClientCredentials(
      clientId: string,
      secret: string,
      orgId: string,
      scopes?: string[],
    ): Promise<TokenResult>;
    validateToken(token: string, clientId?: string): Promise<{ valid: boolean; reason?: string }>;
    invalidateToken(token: string, clientId: string, secret: string): Promise<unknown>;
    getOrganizations(token: string): Promise<{ orgRef: { ident: string; authSrc: string } }[]>;
    get(api: string, token: string): Promise<Record<string, unknown>>;
  }) & { fromToken(token: string): Promise<unknown> };
};

let ims: Awaited<ReturnType<typeof testIms>>;
let author: TestInstance;
let creds: ServiceCredentials;
beforeAll(async () => {
  ims = await testIms();
  creds = await ims.credentials();
  author = await testInstance({ role: 'author', 'ims.url': ims.url });
});
afterAll(async () => {
  await author.close();
  await ims.close();
});

function client() {
  const c = new Ims('prod');
  c.endpoint = ims.url;
  return c;
}
const onAuthor = async (token: string) =>
  (
    await author.app.inject({
      url: '/content/dam.json',
      headers: { authorization: `Bearer ${token}` },
    })
  ).statusCode;

describe('@adobe/aio-lib-ims against latchkey IMS', () => {
  it('exchangeJwtToken, validateToken, and an instance accepts the token', async () => {
    const { integration: i } = creds;
    const jwt = await new SignJWT({ [`${ims.url}/s/ent_aem_cloud_api`]: true, jti: randomUUID() })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(i.org)
      .setSubject(i.id)
      .setAudience(`${ims.url}/c/${i.technicalAccount.clientId}`)
      .setExpirationTime('5m')
      .sign(createPrivateKey(i.privateKey));
    const result = await client().exchangeJwtToken(
      i.technicalAccount.clientId,
      i.technicalAccount.clientSecret,
      jwt,
    );
    const token = result.access_token.token;
    // aio-lib-ims computes expiry from the token's created_at + expires_in (ms strings).
    expect(Math.abs(result.access_token.expiry - (Date.now() + 86_400_000))).toBeLessThan(60_000);
    expect((await client().validateToken(token)).valid).toBe(true);
    expect(await onAuthor(token)).toBe(200);
  });

  it('getAccessTokenByClientCredentials (/ims/token/v2), getOrganizations, get(/ims/profile/v1), invalidateToken', async () => {
    const { integration: i } = creds;
    const c = client();
    const result = await c.getAccessTokenByClientCredentials(
      i.technicalAccount.clientId,
      i.technicalAccount.clientSecret,
      i.org,
      ['ent_aem_cloud_api', 'openid'],
    );
    const token = result.access_token.token;
    expect(result.payload).toMatchObject({ token_type: 'bearer', expires_in: 86399 });
    expect(await onAuthor(token)).toBe(200);

    const orgs = await c.getOrganizations(token);
    expect(orgs.map((o) => `${o.orgRef.ident}@${o.orgRef.authSrc}`)).toEqual([i.org]);
    expect(await c.get('/ims/profile/v1', token)).toMatchObject({
      userId: i.id,
      account_type: 'technical',
    });

    await c.invalidateToken(token, i.technicalAccount.clientId, i.technicalAccount.clientSecret);
    expect(await c.validateToken(token)).toEqual({ valid: false, reason: 'revoked' });
    await expect(c.getOrganizations(token)).rejects.toThrow(/401/);
  });

  it('Ims.fromToken cannot point at latchkey: with the default as claim it fails instead of calling Adobe', async () => {
    const { integration: i } = creds;
    const { access_token } = await client().getAccessTokenByClientCredentials(
      i.technicalAccount.clientId,
      i.technicalAccount.clientSecret,
      i.org,
    );
    await expect(Ims.fromToken(access_token.token)).rejects.toThrow(
      /CANNOT_RESOLVE_ENVIRONMENT|environment/i,
    );
  });
});
