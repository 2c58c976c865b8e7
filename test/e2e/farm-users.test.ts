import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringProperty, toStored } from '../../src/repository/properties.js';
import { hashPassword } from '../../src/repository/users/password.js';
import { basic } from '../helpers/instance.js';
import { runCli, type Server, startServer } from '../helpers/process.js';
import { throwawayCa } from '../helpers/tls.js';

/**
 * Users on every instance, as real processes on HTTPS: an author and two publish instances, each
 * on its own SQLite store (nothing shared), the publish instances subscribed to the author
 * (users.source). Users and groups made, changed, disabled and deleted on the author reach both
 * within the stated bound (users.pullMs, 1 s, plus a request), as password hashes only.
 */
const root = mkdtempSync(join(tmpdir(), 'lk-farm-users-'));
const ca = throwawayCa(root);
const CA = readFileSync(ca.ca, 'utf8');
const PASSWORD = 'farm-users-admin';
const ADMIN = basic('admin', PASSWORD);
const REPLICATOR_PW = 'replicator-secret-pw';
/** users.pullMs (default) plus one request (up to 2 s on a busy machine): the README's bound. */
const BOUND_MS = 1000 + 2000;

function call(
  url: string,
  options: { form?: Record<string, string>; auth?: string; cookie?: string } = {},
): Promise<{ status: number; json: Record<string, unknown>; setCookie: string }> {
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
  const headers: Record<string, string> = {};
  if (options.auth) headers['authorization'] = options.auth;
  if (options.cookie) headers['cookie'] = `login-token=${options.cookie}`;
  if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
  return new Promise((resolve, reject) => {
    request(url, { method: body ? 'POST' : 'GET', headers, ca: CA }, (res) => {
      let text = '';
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => {
        let json = {};
        try {
          json = JSON.parse(text);
        } catch {}
        resolve({
          status: res.statusCode ?? 0,
          json,
          setCookie: res.headers['set-cookie']?.join('; ') ?? '',
        });
      });
    })
      .on('error', reject)
      .end(body);
  });
}

async function until(check: () => Promise<boolean>, ms = 10_000): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < ms) {
    if (await check()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 20));
  }
  return Number.POSITIVE_INFINITY;
}

const login = (s: Server, user: string, password: string) =>
  call(`${s.url}/j_security_check`, { form: { j_username: user, j_password: password } });
const userNode = (s: Server, id: string) =>
  call(`${s.url}/home/users/${id[0]}/${id}.json`, { auth: basic('admin', 'publish-admin-pw') });
const tokenOf = (setCookie: string) => /login-token=([^;]*)/.exec(setCookie)?.[1] ?? '';

describe('users on every instance', () => {
  let author: Server;
  let publishes: Server[];
  const admin = (path: string, form: Record<string, string>) =>
    call(`${author.url}${path}`, { auth: ADMIN, form });

  beforeAll(async () => {
    const tls = ['--tls-cert', ca.cert, '--tls-key', ca.key, '--port', '0'];
    author = await startServer(['serve', 'author', '--data', join(root, 'author'), ...tls], {
      LATCHKEY_ADMIN_PASSWORD: PASSWORD,
      // Its metrics read without credentials from here: the admin's own Basic checks stay out.
      LATCHKEY_METRICS_ALLOW_FROM: '127.0.0.1',
    });
    // The publish instances' account on the author: a member of user-replicators, no administrator.
    expect(
      (
        await admin('/libs/granite/security/post/authorizables', {
          createUser: '',
          authorizableId: 'replicator',
          'rep:password': REPLICATOR_PW,
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await admin('/libs/granite/security/post/authorizables', {
          createGroup: '',
          authorizableId: 'user-replicators',
        })
      ).status,
    ).toBe(201);
    expect(
      (await admin('/home/groups/u/user-replicators.rw.html', { addMembers: 'replicator' })).status,
    ).toBe(200);
    const env = {
      LATCHKEY_ADMIN_PASSWORD: 'publish-admin-pw',
      LATCHKEY_USERS_SOURCE: author.url,
      LATCHKEY_USERS_SOURCE_USER: 'replicator',
      LATCHKEY_USERS_SOURCE_PASSWORD: REPLICATOR_PW,
      LATCHKEY_USERS_SOURCE_CA: ca.ca,
    };
    publishes = await Promise.all(
      ['p1', 'p2'].map((name) =>
        startServer(['serve', 'publish', '--data', join(root, name), ...tls], env),
      ),
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all([author, ...(publishes ?? [])].map((s) => s?.stop()));
    rmSync(root, { recursive: true, force: true });
  });

  it('a user and group made on the author can sign in on every publish instance; only hashes travel', async () => {
    const local = await call(`${publishes[0]!.url}/libs/granite/security/post/authorizables`, {
      auth: basic('admin', 'publish-admin-pw'),
      form: { createUser: '', authorizableId: 'local-only', 'rep:password': 'local-pw' },
    });
    expect(local.status).toBe(201);

    expect(
      (
        await admin('/libs/granite/security/post/authorizables', {
          createGroup: '',
          authorizableId: 'editors',
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await admin('/libs/granite/security/post/authorizables', {
          createUser: '',
          authorizableId: 'alice',
          'rep:password': 'alice-clear-pw',
          'profile/givenName': 'Alice',
          membership: 'editors',
        })
      ).status,
    ).toBe(201);
    // Polled as the publish administrator: failed sign-ins would be throttled (429).
    for (const p of publishes) {
      const lag = await until(async () => (await userNode(p, 'alice')).status === 200);
      console.log(`new user reached ${p.url} after ${lag.toFixed(0)} ms`);
      expect(lag).toBeLessThan(BOUND_MS);
      expect((await login(p, 'alice', 'alice-clear-pw')).status).toBe(200);
      const group = await call(`${p.url}/home/groups/e/editors.json`, {
        auth: basic('admin', 'publish-admin-pw'),
      });
      expect(group.status).toBe(200);
      expect(JSON.stringify(group.json)).toContain('alice');
      // The instance's own admin and users stay its own.
      expect((await login(p, 'admin', 'publish-admin-pw')).status).toBe(200);
      expect((await login(p, 'admin', PASSWORD)).status).toBe(403);
    }
    expect((await login(publishes[0]!, 'local-only', 'local-pw')).status).toBe(200);
    // Each publish instance's audit log records what it copied, and from where.
    type Line = { type: string; target?: string; details?: { replicatedFrom?: string } };
    let created: Line | undefined;
    await until(async () => {
      const audited = await runCli(['audit', '--data', join(root, 'p1'), '--json']);
      expect(audited.code, audited.stderr).toBe(0);
      created = audited.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Line)
        .find((e) => e.type === 'user.created' && e.target === 'alice');
      return created !== undefined;
    });
    expect(created?.details?.replicatedFrom).toBe(author.url);
    const metrics = await new Promise<string>((resolve, reject) => {
      request(
        `${publishes[0]!.url}/system/metrics`,
        { headers: { authorization: basic('admin', 'publish-admin-pw') }, ca: CA },
        (res) => {
          let text = '';
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () => resolve(text));
        },
      )
        .on('error', reject)
        .end();
    });
    expect(metrics).toMatch(/latchkey_users_pulls_total\{outcome="applied"\} [1-9]/);

    // The feed holds the scrypt hash, never the password; so does each publish store.
    const feed = await call(`${author.url}/system/users/replication.json`, {
      auth: basic('replicator', REPLICATOR_PW),
    });
    expect(feed.status).toBe(200);
    const text = JSON.stringify(feed.json);
    expect(text).toContain('$scrypt$');
    expect(text).not.toContain('alice-clear-pw');
    expect(text).not.toContain('"admin"');
    for (const name of ['p1', 'p2']) {
      for (const file of readdirSync(join(root, name)).filter((f) => f.includes('.sqlite')))
        expect(readFileSync(join(root, name, file)).includes('alice-clear-pw')).toBe(false);
    }
    // Only administrators and user-replicators read it.
    expect((await call(`${author.url}/system/users/replication.json`)).status).toBe(401);
    expect(
      (
        await call(`${author.url}/system/users/replication.json`, {
          auth: basic('alice', 'alice-clear-pw'),
        })
      ).status,
    ).toBe(403);
  }, 30_000);

  it('the publish instances polling every second cost the author no password hash per poll', async () => {
    const lookups = async () => {
      const res = await new Promise<string>((resolve, reject) => {
        request(`${author.url}/system/metrics`, { ca: CA }, (r) => {
          let text = '';
          r.on('data', (c) => {
            text += c;
          });
          r.on('end', () => resolve(text));
        })
          .on('error', reject)
          .end();
      });
      const count = (result: string) =>
        Number(
          new RegExp(
            `^latchkey_cache_lookups_total\\{[^}]*cache="basic-credentials"[^}]*result="${result}"[^}]*\\} (\\d+)`,
            'm',
          ).exec(res)?.[1] ?? 0,
        );
      return { hit: count('hit'), miss: count('miss') };
    };
    const before = await lookups();
    await new Promise((r) => setTimeout(r, 3000)); // about 6 polls: 2 instances, users.pullMs 1 s
    const after = await lookups();
    // The replicator's credentials are verified once (per security.basicCacheMs, 5 s), then
    // reused: at most one hash per expiry, not one per poll (each poll one scrypt before).
    expect(after.hit - before.hit).toBeGreaterThanOrEqual(3);
    expect(after.miss - before.miss).toBeLessThanOrEqual(2);
  });

  it('a password change, a disable and a deletion on the author take effect on every publish instance within the bound', async () => {
    const sessions = await Promise.all(
      publishes.map(async (p) => {
        const res = await login(p, 'alice', 'alice-clear-pw');
        expect(res.status).toBe(200);
        return tokenOf(res.setCookie);
      }),
    );
    const whoIs = async (p: Server, token: string) =>
      (await call(`${p.url}/libs/granite/security/currentuser.json`, { cookie: token })).json[
        'authorizableId'
      ];
    for (const [i, p] of publishes.entries()) expect(await whoIs(p, sessions[i]!)).toBe('alice');

    expect(
      (await admin('/home/users/a/alice', { 'rep:password': 'alice-new-pw' })).status,
    ).toBeLessThan(300);
    // The password change ends the sessions everywhere; then only the new password works.
    for (const [i, p] of publishes.entries()) {
      const lag = await until(async () => (await whoIs(p, sessions[i]!)) !== 'alice');
      expect(lag).toBeLessThan(BOUND_MS);
      expect((await login(p, 'alice', 'alice-new-pw')).status).toBe(200);
      expect((await login(p, 'alice', 'alice-clear-pw')).status).toBe(403);
    }

    const fresh = await Promise.all(
      publishes.map(async (p) => tokenOf((await login(p, 'alice', 'alice-new-pw')).setCookie)),
    );
    expect((await admin('/home/users/a/alice', { disableUser: 'left' })).status).toBeLessThan(300);
    for (const [i, p] of publishes.entries()) {
      const lag = await until(async () => (await whoIs(p, fresh[i]!)) !== 'alice');
      console.log(`disable reached ${p.url} after ${lag.toFixed(0)} ms`);
      expect(lag).toBeLessThan(BOUND_MS);
      expect((await login(p, 'alice', 'alice-new-pw')).status).toBe(403);
    }

    expect((await admin('/home/users/a/alice', { deleteAuthorizable: '' })).status).toBeLessThan(
      300,
    );
    for (const p of publishes) {
      const gone = await until(async () => (await userNode(p, 'alice')).status === 404);
      expect(gone).toBeLessThan(BOUND_MS);
      const group = await call(`${p.url}/home/groups/e/editors.json`, {
        auth: basic('admin', 'publish-admin-pw'),
      });
      expect(JSON.stringify(group.json)).not.toContain('alice');
    }
    // Made on the publish instance itself: kept.
    expect((await login(publishes[0]!, 'local-only', 'local-pw')).status).toBe(200);
  }, 60_000);

  it('a subscriber writes nothing an author may not hand out: no admin, no administrators, no path outside /home; keeps its users while the author is away', async () => {
    const str = (v: string | string[]) => toStored(stringProperty(v));
    const user = async (id: string, password: string) => ({
      id,
      kind: 'user',
      properties: { 'rep:password': str(await hashPassword(password, 10)) },
    });
    const feed = {
      authorizables: [
        await user('admin', 'taken-over'),
        await user('mallory', 'mallory-pw'),
        { id: 'administrators', kind: 'group', properties: { 'rep:members': str(['mallory']) } },
        { ...(await user('../../content/planted', 'x')) },
        { id: 'everyone', kind: 'group', properties: {} },
      ],
    };
    const fake = createServer((req, res) => {
      if (req.url !== '/system/users/replication.json') return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json', etag: '"v1"' });
      res.end(JSON.stringify(feed));
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const source = `http://127.0.0.1:${(fake.address() as { port: number }).port}`;
    const tls = ['--tls-cert', ca.cert, '--tls-key', ca.key, '--port', '0'];
    const p3 = await startServer(['serve', 'publish', '--data', join(root, 'p3'), ...tls], {
      LATCHKEY_ADMIN_PASSWORD: 'publish-admin-pw',
      LATCHKEY_USERS_SOURCE: source,
      LATCHKEY_USERS_SOURCE_PASSWORD: 'whatever',
    });
    try {
      expect(await until(async () => (await userNode(p3, 'mallory')).status === 200)).toBeLessThan(
        BOUND_MS,
      );
      expect((await login(p3, 'admin', 'publish-admin-pw')).status).toBe(200);
      expect((await login(p3, 'admin', 'taken-over')).status).toBe(403);
      expect((await login(p3, 'mallory', 'mallory-pw')).status).toBe(200);
      const keys = await call(`${p3.url}/system/console/crypto/keys.json`, {
        auth: basic('mallory', 'mallory-pw'),
      });
      expect(keys.status).toBe(403);
      const planted = await call(`${p3.url}/content/planted.json`, {
        auth: basic('admin', 'publish-admin-pw'),
      });
      expect(planted.status).toBe(404);

      // The author goes away: the users stay, one warning says why.
      await new Promise((r) => fake.close(r));
      fake.closeAllConnections();
      expect(
        await until(async () => p3.stdout().includes('users not copied from the author')),
      ).toBeLessThan(10_000);
      await new Promise((r) => setTimeout(r, 2500));
      expect(p3.stdout().split('users not copied from the author').length - 1).toBe(1);
      expect((await login(p3, 'mallory', 'mallory-pw')).status).toBe(200);
      expect(p3.stdout()).not.toContain('whatever');
    } finally {
      await p3.stop();
    }
  }, 60_000);

  it('a users.source that refuses the credentials is asked again in minutes, not every second (no lockout at the author)', async () => {
    // An author that refuses the subscriber's password, as a real one would with a typo in it.
    let asked = 0;
    const refusing = createServer((_req, res) => {
      asked++;
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic' });
      res.end(
        JSON.stringify({ error: 'unauthorized', error_description: 'wrong user or password' }),
      );
    });
    await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
    const source = `http://127.0.0.1:${(refusing.address() as { port: number }).port}`;
    const tls = ['--tls-cert', ca.cert, '--tls-key', ca.key, '--port', '0'];
    const p4 = await startServer(['serve', 'publish', '--data', join(root, 'p4'), ...tls], {
      LATCHKEY_ADMIN_PASSWORD: 'publish-admin-pw',
      LATCHKEY_USERS_SOURCE: source,
      LATCHKEY_USERS_SOURCE_PASSWORD: 'a-typo',
      LATCHKEY_USERS_PULL_MS: '200',
    });
    try {
      expect(await until(async () => asked > 0)).toBeLessThan(10_000);
      // At a 200 ms interval, five failed sign-ins (a throttle's limit) would take a second.
      await new Promise((r) => setTimeout(r, 3000));
      expect(asked).toBe(1);
      const warnings = p4.stdout().split('users not copied from the author').length - 1;
      expect(warnings).toBe(1);
      expect(p4.stdout()).toContain('"nextTryS":300');
      expect(p4.stdout()).not.toContain('a-typo');
    } finally {
      await p4.stop();
      await new Promise((r) => refusing.close(r));
    }
  }, 60_000);

  it('users.source with credentials in it, or plain http to another host, stops the instance at start', async () => {
    const bad = await runCli(['config', 'print', '--role', 'publish'], {
      LATCHKEY_USERS_SOURCE: 'https://replicator:hunter2-secret@author.example:4502',
      LATCHKEY_USERS_SOURCE_PASSWORD: 'x',
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('users.source must not hold credentials');
    expect(bad.stderr).not.toContain('hunter2-secret');
    const plain = await runCli(['config', 'print', '--role', 'publish'], {
      LATCHKEY_USERS_SOURCE: 'http://author.example:4502',
      LATCHKEY_USERS_SOURCE_PASSWORD: 'x',
    });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('only over HTTPS');
    const noPassword = await runCli(['config', 'print', '--role', 'publish'], {
      LATCHKEY_USERS_SOURCE: 'https://author.example:4502',
    });
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toContain('users.sourcePassword');
    const shown = await runCli(['config', 'print', '--role', 'publish'], {
      LATCHKEY_USERS_SOURCE: 'https://author.example:4502',
      LATCHKEY_USERS_SOURCE_PASSWORD: 'hunter2-secret',
    });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).not.toContain('hunter2-secret');
  });
});
