import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testIms } from '../helpers/ims.js';

// The real, unmodified @adobe/jwt-auth from npm, its `ims` option pointed at latchkey's IMS.
const { default: auth } = (await import('@adobe/jwt-auth')) as unknown as {
  default: (
    options: Record<string, unknown>,
  ) => Promise<{ access_token: string; expires_in: number; token_type: string }>;
};

let ims: Awaited<ReturnType<typeof testIms>>;
beforeAll(async () => {
  ims = await testIms();
});
afterAll(() => ims.close());

describe('@adobe/jwt-auth against latchkey IMS', () => {
  it('obtains an access token with service credentials', async () => {
    const { integration: i } = await ims.credentials();
    const token = await auth({
      clientId: i.technicalAccount.clientId,
      clientSecret: i.technicalAccount.clientSecret,
      technicalAccountId: i.id,
      orgId: i.org,
      privateKey: i.privateKey,
      metaScopes: i.metascopes.split(','),
      ims: ims.url,
    });
    expect(token.token_type).toBe('bearer');
    expect(token.expires_in).toBe(86_399_999);
    const { payload } = await jwtVerify(
      token.access_token,
      createRemoteJWKSet(new URL(`${ims.url}/ims/keys`)),
    );
    expect(payload['client_id']).toBe(i.technicalAccount.clientId);
  });

  it('surfaces latchkey IMS errors as Adobe clients expect them', async () => {
    const { integration: i } = await ims.credentials();
    await expect(
      auth({
        clientId: i.technicalAccount.clientId,
        clientSecret: 'wrong',
        technicalAccountId: i.id,
        orgId: i.org,
        privateKey: i.privateKey,
        metaScopes: ['ent_aem_cloud_api'],
        ims: ims.url,
      }),
    ).rejects.toThrow(/invalid client_secret parameter/);
  });
});
