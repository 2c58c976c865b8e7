import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { basic } from '../helpers/instance.js';
import { findPostgres, freshSchemaUrl } from '../helpers/postgres.js';
import { startServer } from '../helpers/process.js';

const base = await findPostgres();
const root = mkdtempSync(join(tmpdir(), 'lk-pg-e2e-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.runIf(base)('two author processes on one PostgreSQL store', () => {
  const schema = base ? freshSchemaUrl(base) : undefined;
  afterAll(() => schema?.drop());

  it('initializes once and shares content and users', async () => {
    // Keys in the shared store (repository storage), so both instances use the same ones.
    const env = {
      LATCHKEY_ADMIN_PASSWORD: 'pg-admin-pw',
      LATCHKEY_REPOSITORY_ACL_CACHE_MS: '500',
      LATCHKEY_CRYPTO_KEY_STORAGE: 'repository',
    };
    const [a, b] = await Promise.all([
      startServer(
        ['serve', 'author', '--port', '0', '--data', join(root, 'a'), '--db', schema!.url],
        env,
      ),
      startServer(
        ['serve', 'author', '--port', '0', '--data', join(root, 'b'), '--db', schema!.url],
        env,
      ),
    ]);
    try {
      const admin = basic('admin', 'pg-admin-pw');
      const created = await fetch(`${a.url}/content/shared`, {
        method: 'POST',
        headers: { authorization: admin },
        body: new URLSearchParams({ 'jcr:title': 'From A' }),
      });
      expect(created.status).toBe(201);
      const seen = await fetch(`${b.url}/content/shared.json`, {
        headers: { authorization: admin },
      });
      expect(((await seen.json()) as Record<string, unknown>)['jcr:title']).toBe('From A');

      const user = await fetch(`${b.url}/libs/granite/security/post/authorizables`, {
        method: 'POST',
        headers: { authorization: admin },
        body: new URLSearchParams({
          createUser: '',
          authorizableId: 'frank',
          'rep:password': 'frank-pw',
        }),
      });
      expect(user.status).toBe(201);
      // Frank signs in on A at once; A sees the entry letting him read his own node within
      // repository.aclCacheMs (500 ms here), as documented.
      const frank = { authorization: basic('frank', 'frank-pw') };
      expect((await fetch(`${a.url}/content.json`, { headers: frank })).status).toBe(404);
      let status = 0;
      for (let i = 0; i < 30 && status !== 200; i++) {
        status = (await fetch(`${a.url}/home/users/f/frank.json`, { headers: frank })).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(200);

      // A stateful login token issued by A is accepted by B: they share the token store.
      const loginRes = await fetch(`${a.url}/j_security_check`, {
        method: 'POST',
        body: new URLSearchParams({ j_username: 'frank', j_password: 'frank-pw' }),
      });
      const token = /login-token=([^;]*)/.exec(loginRes.headers.get('set-cookie') ?? '')?.[1] ?? '';
      expect(token.startsWith('s1.')).toBe(true);
      const viaB = await fetch(`${b.url}/libs/granite/security/currentuser.json`, {
        headers: { cookie: `login-token=${token}` },
      });
      expect(((await viaB.json()) as { authorizableId: string }).authorizableId).toBe('frank');
      const logout = await fetch(`${b.url}/system/sling/logout`, {
        headers: { cookie: `login-token=${token}` },
      });
      expect(logout.status).toBe(200);
      const afterLogout = await fetch(`${a.url}/home/users/f/frank.json`, {
        headers: { cookie: `login-token=${token}` },
      });
      expect(afterLogout.status).toBe(401);
      const health = (await (await fetch(`${a.url}/system/health`)).json()) as {
        checks: { message: string }[];
      };
      expect(health.checks[0].message).toMatch(/^postgres answered/);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

if (!base) {
  describe('two author processes on one PostgreSQL store', () => {
    it.skip('needs a PostgreSQL server (set LATCHKEY_TEST_PG_URL); none answered', () => {});
  });
}
