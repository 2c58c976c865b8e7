import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic } from '../helpers/instance.js';
import { findPostgres, freshSchemaUrl } from '../helpers/postgres.js';
import { type Server, startServer } from '../helpers/process.js';

/**
 * The caches that make reads cheap (verified HTTP Basic credentials, stateful token nodes) never
 * outlive the change that should end them. Two authors share one PostgreSQL schema, as real
 * processes, with the caches' default time to live (5 s): what is asserted within 1 s on the
 * second author can only come from the change channel; on the first, it holds at once.
 */
const base = await findPostgres();
const root = mkdtempSync(join(tmpdir(), 'lk-farm-reads-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ADMIN = basic('admin', 'farm-admin-pw');
/** Within the change channel's bound (1 s): well under the caches' 5 s. */
const CHANNEL_MS = 1000;

async function until(check: () => Promise<boolean>, ms: number): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < ms) {
    if (await check()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 10));
  }
  return Number.POSITIVE_INFINITY;
}

/** The value of a sample in Prometheus's text format (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

describe.runIf(base)('reads through caches on two authors sharing PostgreSQL', () => {
  const schema = base ? freshSchemaUrl(base) : undefined;
  let a1: Server;
  let a2: Server;

  beforeAll(async () => {
    const env = {
      LATCHKEY_ADMIN_PASSWORD: 'farm-admin-pw',
      LATCHKEY_CRYPTO_KEY_STORAGE: 'repository',
      // Metrics read without credentials from here: the admin's own Basic lookups stay out.
      LATCHKEY_METRICS_ALLOW_FROM: '127.0.0.1',
    };
    const author = (name: string) =>
      startServer(
        ['serve', 'author', '--port', '0', '--data', join(root, name), '--db', schema!.url],
        env,
      );
    a1 = await author('a1'); // first: initializes the shared store
    a2 = await author('a2');
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a1?.stop(), a2?.stop()]);
    await schema?.drop();
  });

  const post = (s: Server, path: string, fields: Record<string, string>) =>
    fetch(`${s.url}${path}`, {
      method: 'POST',
      headers: { authorization: ADMIN },
      body: new URLSearchParams(fields),
    });

  async function createUser(id: string, password: string) {
    const res = await post(a1, '/libs/granite/security/post/authorizables', {
      createUser: '',
      authorizableId: id,
      'rep:password': password,
    });
    expect(res.status).toBe(201);
  }

  /** Reads the user's own node with Basic credentials: the status code. */
  const asBasic = async (s: Server, id: string, password: string) =>
    (
      await fetch(`${s.url}/home/users/${id[0]}/${id}.json`, {
        headers: { authorization: basic(id, password) },
      })
    ).status;

  const lookups = async (s: Server, cache: string) => {
    const res = await fetch(`${s.url}/system/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    return {
      hit: sample(text, 'latchkey_cache_lookups_total', { cache, result: 'hit' }),
      miss: sample(text, 'latchkey_cache_lookups_total', { cache, result: 'miss' }),
    };
  };

  /** Both authors accept the password, the second time from their cache. */
  async function cachedOnBoth(id: string, password: string) {
    for (const s of [a1, a2]) {
      expect(await asBasic(s, id, password)).toBe(200);
      const before = await lookups(s, 'basic-credentials');
      expect(await asBasic(s, id, password)).toBe(200);
      const after = await lookups(s, 'basic-credentials');
      expect(after.hit).toBe(before.hit + 1);
    }
  }

  it('HTTP Basic: verified credentials are reused without a hash; a wrong password never is', async () => {
    await createUser('basil', 'basil-pw-1');
    const before = await lookups(a1, 'basic-credentials');
    for (let i = 0; i < 5; i++) expect(await asBasic(a1, 'basil', 'basil-pw-1')).toBe(200);
    const after = await lookups(a1, 'basic-credentials');
    expect(after.miss - before.miss).toBe(1); // one full check (scrypt)
    expect(after.hit - before.hit).toBe(4);
    // A wrong password is a miss every time (the full, throttled check), never a hit.
    for (let i = 0; i < 2; i++) expect(await asBasic(a1, 'basil', 'wrong')).toBe(401);
    const wrong = await lookups(a1, 'basic-credentials');
    expect(wrong.hit).toBe(after.hit);
    expect(wrong.miss - after.miss).toBe(2);
    // The cache does not make the login form or anything else skip the password.
    expect(await asBasic(a1, 'basil', 'basil-pw-1 ')).toBe(401);
  });

  it('a password change refuses the old password at once here and within 1 s on the other author', async () => {
    await createUser('petra', 'petra-old');
    await cachedOnBoth('petra', 'petra-old');
    const changed = await post(a1, '/home/users/p/petra', { 'rep:password': 'petra-new' });
    expect(changed.status).toBe(200);
    expect(await asBasic(a1, 'petra', 'petra-old')).toBe(401);
    const lag = await until(async () => (await asBasic(a2, 'petra', 'petra-old')) === 401, 5000);
    expect(lag).toBeLessThan(CHANNEL_MS);
    for (const s of [a1, a2]) expect(await asBasic(s, 'petra', 'petra-new')).toBe(200);
  });

  it('disabling a user refuses its cached Basic credentials at once here and within 1 s there', async () => {
    await createUser('dora', 'dora-pw');
    await cachedOnBoth('dora', 'dora-pw');
    expect((await post(a1, '/home/users/d/dora', { disableUser: 'left' })).status).toBe(200);
    expect(await asBasic(a1, 'dora', 'dora-pw')).toBe(401);
    const lag = await until(async () => (await asBasic(a2, 'dora', 'dora-pw')) === 401, 5000);
    expect(lag).toBeLessThan(CHANNEL_MS);
  });

  it('deleting a user refuses its cached Basic credentials at once here and within 1 s there', async () => {
    await createUser('dennis', 'dennis-pw');
    await cachedOnBoth('dennis', 'dennis-pw');
    const deleted = await post(a2, '/home/users/d/dennis', { deleteAuthorizable: '' });
    expect(deleted.status).toBe(200);
    expect(await asBasic(a2, 'dennis', 'dennis-pw')).toBe(401);
    const lag = await until(async () => (await asBasic(a1, 'dennis', 'dennis-pw')) === 401, 5000);
    expect(lag).toBeLessThan(CHANNEL_MS);
  });

  it('a stateful login token logged out is refused at once here and within 1 s on the other author', async () => {
    await createUser('stella', 'stella-pw');
    const login = await fetch(`${a1.url}/j_security_check`, {
      method: 'POST',
      body: new URLSearchParams({ j_username: 'stella', j_password: 'stella-pw' }),
    });
    expect(login.status).toBe(200);
    const token = /login-token=([^;]*)/.exec(login.headers.get('set-cookie') ?? '')?.[1];
    expect(token).toMatch(/^s1\./); // stateful: the default
    const read = async (s: Server) =>
      (
        await fetch(`${s.url}/home/users/s/stella.json`, {
          headers: { cookie: `login-token=${token}` },
        })
      ).status;
    // Both authors read with it, the second time from their cache of token nodes.
    for (const s of [a1, a2]) {
      expect(await read(s)).toBe(200);
      const before = await lookups(s, 'stateful-tokens');
      expect(await read(s)).toBe(200);
      expect((await lookups(s, 'stateful-tokens')).hit).toBeGreaterThan(before.hit);
    }
    const out = await fetch(`${a1.url}/system/sling/logout`, {
      method: 'POST',
      headers: { cookie: `login-token=${token}` },
    });
    expect(out.status).toBe(200);
    expect(await read(a1)).toBe(401);
    const lag = await until(async () => (await read(a2)) === 401, 5000);
    expect(lag).toBeLessThan(CHANNEL_MS);
  });
});
