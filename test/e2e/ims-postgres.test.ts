import { createPrivateKey, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { findPostgres, freshSchemaUrl } from '../helpers/postgres.js';
import { runCli, startServer } from '../helpers/process.js';

const base = await findPostgres();
const root = mkdtempSync(join(tmpdir(), 'lk-ims-pg-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.runIf(base)('two IMS processes on one PostgreSQL store', () => {
  const schema = base ? freshSchemaUrl(base) : undefined;
  afterAll(() => schema?.drop());

  it('share one issuer, credentials, the replay cache, revocations and signing keys', async () => {
    const env = { LATCHKEY_CRYPTO_KEY_STORAGE: 'repository' };
    const [a, b] = await Promise.all([
      startServer(
        ['serve', 'ims', '--port', '0', '--data', join(root, 'a'), '--db', schema!.url],
        env,
      ),
      startServer(
        ['serve', 'ims', '--port', '0', '--data', join(root, 'b'), '--db', schema!.url],
        env,
      ),
    ]);
    try {
      expect(a.url).not.toBe(b.url);
      const jwksA = await (await fetch(`${a.url}/ims/keys`)).json();
      expect(await (await fetch(`${b.url}/ims/keys`)).json()).toEqual(jwksA);
      // One issuer whatever the port: the address of whichever process recorded it first.
      const discovery = async (url: string) =>
        (await (await fetch(`${url}/ims/.well-known/openid-configuration`)).json()) as {
          issuer: string;
        };
      const issuer = (await discovery(a.url)).issuer;
      expect([`${a.url}/ims`, `${b.url}/ims`]).toContain(issuer);
      expect((await discovery(b.url)).issuer).toBe(issuer);

      const created = await runCli(
        [
          'credentials',
          'create',
          '--environment',
          'p1-e1',
          '--data',
          join(root, 'a'),
          '--db',
          schema!.url,
        ],
        env,
      );
      expect(created.code, created.stderr).toBe(0);
      const { integration: i } = JSON.parse(created.stdout);
      expect(`http://${i.imsEndpoint}/ims`).toBe(issuer);
      const jwt = async (jti: string) =>
        new SignJWT({
          // The deployment's one URL: both processes accept JWTs made for it.
          [`http://${i.imsEndpoint}/s/ent_aem_cloud_api`]: true,
          iss: i.org,
          sub: i.id,
          aud: `http://${i.imsEndpoint}/c/${i.technicalAccount.clientId}`,
          jti,
        })
          .setProtectedHeader({ alg: 'RS256' })
          .setExpirationTime('5m')
          .sign(createPrivateKey(i.privateKey));
      const exchangeAt = async (url: string, token: string) => {
        const res = await fetch(`${url}/ims/exchange/jwt`, {
          method: 'POST',
          body: new URLSearchParams({
            client_id: i.technicalAccount.clientId,
            client_secret: i.technicalAccount.clientSecret,
            jwt_token: token,
          }),
        });
        return { status: res.status, body: (await res.json()) as Record<string, string> };
      };
      // Credentials created through A's store work on B; tokens of both name the one issuer.
      const jti = randomUUID();
      const first = await exchangeAt(b.url, await jwt(jti));
      expect(first.status).toBe(200);
      const fromA = await exchangeAt(a.url, await jwt(randomUUID()));
      const iss = (t: string) =>
        JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()).iss;
      expect([iss(first.body.access_token!), iss(fromA.body.access_token!)]).toEqual([
        issuer,
        issuer,
      ]);
      // The replay cache is shared: the same jti at A is refused.
      expect((await exchangeAt(a.url, await jwt(jti))).body.error).toBe('invalid_jti');
      // A token from B validates at A; revoked at A, it is revoked at B.
      const token = first.body.access_token!;
      const validate = async (url: string) =>
        (await (
          await fetch(`${url}/ims/validate_token/v1`, {
            method: 'POST',
            body: new URLSearchParams({ token }),
          })
        ).json()) as Record<string, unknown>;
      expect((await validate(a.url)).valid).toBe(true);
      const revoked = await fetch(`${a.url}/ims/revoke`, {
        method: 'POST',
        body: new URLSearchParams({
          token,
          client_id: i.technicalAccount.clientId,
          client_secret: i.technicalAccount.clientSecret,
        }),
      });
      expect(revoked.status).toBe(200);
      expect(await validate(b.url)).toEqual({ valid: false, reason: 'revoked' });
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

if (!base) {
  describe('two IMS processes on one PostgreSQL store', () => {
    it.skip('needs a PostgreSQL server (set LATCHKEY_TEST_PG_URL); none answered', () => {});
  });
}
