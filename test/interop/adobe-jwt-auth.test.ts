import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpsDeployment, httpsDeployment } from '../helpers/interop.js';

// The real, unmodified @adobe/jwt-auth from npm, in its own process, over HTTPS
// (see clients/jwt-auth.mjs).

let d: HttpsDeployment;
beforeAll(async () => {
  d = await httpsDeployment();
});
afterAll(() => d.close());

describe('@adobe/jwt-auth against latchkey IMS over HTTPS', () => {
  it('obtains an access token with service credentials; an instance accepts it; errors surface', async () => {
    const { dir, credentials } = await d.workspace();
    const run = await d.node(
      { file: fileURLToPath(new URL('./clients/jwt-auth.mjs', import.meta.url)) },
      dir,
    );
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.token).toMatchObject({ token_type: 'bearer', expires_in: 86_399_999 });
    const claims = JSON.parse(
      Buffer.from(out.token.access_token.split('.')[1], 'base64url').toString(),
    );
    expect(claims.client_id).toBe(credentials.integration.technicalAccount.clientId);
    expect(await d.onAuthor(out.token.access_token)).toBe(200);
    expect(out.wrongSecret).toMatch(/invalid client_secret parameter/);
  });
});
