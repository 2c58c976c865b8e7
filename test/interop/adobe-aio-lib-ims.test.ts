import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpsDeployment, httpsDeployment } from '../helpers/interop.js';

// The real, unmodified @adobe/aio-lib-ims from npm, in its own process, over HTTPS
// (see clients/aio-lib-ims.mjs): every call a server-to-server user makes.

let d: HttpsDeployment;
beforeAll(async () => {
  d = await httpsDeployment();
});
afterAll(() => d.close());

describe('@adobe/aio-lib-ims against latchkey IMS over HTTPS', () => {
  it('getAccessTokenByClientCredentials, exchangeJwtToken, validateToken, getOrganizations, get(profile), invalidateToken', async () => {
    const { dir, credentials } = await d.workspace();
    const run = await d.node(
      { file: fileURLToPath(new URL('./clients/aio-lib-ims.mjs', import.meta.url)) },
      dir,
    );
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    const i = credentials.integration;

    // aio-lib-ims computes expiry from the token's created_at + expires_in (ms strings).
    for (const result of [out.clientCredentials, out.exchange]) {
      expect(Math.abs(result.access_token.expiry - (Date.now() + 86_400_000))).toBeLessThan(60_000);
      expect(await d.onAuthor(result.access_token.token)).toBe(200);
    }
    expect(out.clientCredentials.payload).toMatchObject({
      token_type: 'bearer',
      expires_in: 86399,
      scope: 'ent_aem_cloud_api,openid',
    });
    expect(out.exchange.payload).toMatchObject({ token_type: 'bearer', expires_in: 86_399_999 });
    expect(out.validate.valid).toBe(true);
    expect(
      out.organizations.map(
        (o: { orgRef: { ident: string; authSrc: string } }) =>
          `${o.orgRef.ident}@${o.orgRef.authSrc}`,
      ),
    ).toEqual([i.org]);
    expect(out.profile).toMatchObject({ userId: i.id, account_type: 'technical' });
    expect(out.validateSpare.valid).toBe(true);
    expect(out.validateAfter).toEqual({ valid: false, reason: 'revoked' });
    // No as value makes Ims.fromToken find this IMS; the default makes it fail rather than
    // return an Ims that would send the token to Adobe.
    expect(out.fromToken).toEqual({ error: 'CANNOT_RESOLVE_ENVIRONMENT' });
  });
});
