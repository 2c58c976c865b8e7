import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpsDeployment, httpsDeployment } from '../helpers/interop.js';

// The real, unmodified jose from npm, in its own process, over HTTPS (see clients/jose.mjs).

let d: HttpsDeployment;
beforeAll(async () => {
  d = await httpsDeployment();
});
afterAll(() => d.close());

describe('jose against latchkey IMS over HTTPS', () => {
  it('verifies an access token with the discovered jwks_uri and issuer', async () => {
    const { dir, credentials } = await d.workspace();
    const run = await d.node(
      { file: fileURLToPath(new URL('./clients/jose.mjs', import.meta.url)) },
      dir,
    );
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.issuer).toBe(`https://${credentials.integration.imsEndpoint}/ims`);
    expect(out.payload).toMatchObject({
      iss: out.issuer,
      client_id: credentials.integration.technicalAccount.clientId,
      user_id: credentials.integration.id,
      type: 'access_token',
    });
    expect(out.protectedHeader.alg).toBe('ES256');
    expect(out.otherIssuer).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED');
    expect(await d.onAuthor(out.token)).toBe(200);
  });
});
