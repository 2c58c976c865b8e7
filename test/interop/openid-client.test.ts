import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpsDeployment, httpsDeployment } from '../helpers/interop.js';

// The real, unmodified openid-client from npm, in its own process, over HTTPS, trusting the IMS's
// CA with NODE_EXTRA_CA_CERTS (see clients/openid-client.mjs for what it does).

let d: HttpsDeployment;
beforeAll(async () => {
  d = await httpsDeployment();
});
afterAll(() => d.close());

describe('openid-client against latchkey IMS over HTTPS', () => {
  it('discovery, client credentials with each method, jwt-bearer, introspection, userinfo, revocation', async () => {
    const { dir, credentials } = await d.workspace();
    const run = await d.node(
      { file: fileURLToPath(new URL('./clients/openid-client.mjs', import.meta.url)) },
      dir,
    );
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    const i = credentials.integration;

    expect(out.metadataEqual).toBe(true);
    expect(out.metadata.issuer).toBe(`https://${i.imsEndpoint}/ims`);
    expect(Object.keys(out.tokens)).toEqual([
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
      'jwt_bearer',
    ]);
    for (const [method, token] of Object.entries(out.tokens as Record<string, string>)) {
      expect(await d.onAuthor(token), method).toBe(200);
    }
    for (const method of ['client_secret_basic', 'client_secret_post', 'private_key_jwt']) {
      expect(out.introspection[method]).toMatchObject({
        active: true,
        client_id: i.technicalAccount.clientId,
        sub: i.id,
        scope: 'ent_aem_cloud_api',
      });
      expect(out.userinfo[method]).toMatchObject({ sub: i.id, account_type: 'technical' });
      expect(out.revoked[method].introspection).toEqual({ active: false });
    }
    // Tokens revoked through openid-client are refused by the instance at its next poll.
    for (const method of Object.keys(out.revoked)) {
      const token = out.revoked[method].token;
      const until = Date.now() + 5000;
      while ((await d.onAuthor(token)) !== 401 && Date.now() < until)
        await new Promise((r) => setTimeout(r, 200));
      expect(await d.onAuthor(token), method).toBe(401);
    }
    // A failed Basic attempt is a 401 challenge, which openid-client reports as such.
    expect(out.wrongSecret).toEqual({
      name: 'WWWAuthenticateChallengeError',
      status: 401,
      challenges: ['basic'],
      body: { error: 'invalid_client', error_description: 'invalid client_secret parameter' },
    });
  });
});
