import { createPrivateKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testIms } from '../helpers/ims.js';
import { type TestInstance, testInstance } from '../helpers/instance.js';

// The real, unmodified @adobe/aio-lib-ims from npm; its Ims instance's `endpoint` set to latchkey's IMS.
const { Ims } = (await import('@adobe/aio-lib-ims')) as unknown as {
  Ims: new (
    env?: string,
  ) => {
    endpoint: string;
    exchangeJwtToken(
      clientId: string,
      secret: string,
      jwt: string,
    ): Promise<{ access_token: { token: string; expiry: number } }>;
    validateToken(token: string, clientId?: string): Promise<{ valid: boolean }>;
  };
};

let ims: Awaited<ReturnType<typeof testIms>>;
let author: TestInstance;
beforeAll(async () => {
  ims = await testIms();
  author = await testInstance({ role: 'author', 'ims.url': ims.url });
});
afterAll(async () => {
  await author.close();
  await ims.close();
});

describe('@adobe/aio-lib-ims against latchkey IMS', () => {
  it('exchanges a JWT, validates the token, and an instance accepts it', async () => {
    const { integration: i } = await ims.credentials();
    const client = new Ims('prod');
    client.endpoint = ims.url;
    const jwt = await new SignJWT({ [`${ims.url}/s/ent_aem_cloud_api`]: true, jti: randomUUID() })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(i.org)
      .setSubject(i.id)
      .setAudience(`${ims.url}/c/${i.technicalAccount.clientId}`)
      .setExpirationTime('5m')
      .sign(createPrivateKey(i.privateKey));
    const result = await client.exchangeJwtToken(
      i.technicalAccount.clientId,
      i.technicalAccount.clientSecret,
      jwt,
    );
    const token = result.access_token.token;
    // aio-lib-ims computes expiry from the token's created_at + expires_in (ms strings).
    expect(Math.abs(result.access_token.expiry - (Date.now() + 86_400_000))).toBeLessThan(60_000);
    const validation = await client.validateToken(token);
    expect(validation.valid).toBe(true);
    const res = await author.app.inject({
      url: '/content/dam.json',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(200);
  });
});
