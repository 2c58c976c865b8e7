import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { type RunningInstance, startInstance } from '../../src/runtime/instance.js';
import { basicAuth, cookieValue, formBody, http } from '../helpers/http.js';
import { IMS_ADMIN_PASSWORD, testIms } from '../helpers/ims.js';
import { ADMIN_PASSWORD, type TestInstance, testInstance } from '../helpers/instance.js';
import { runCli } from '../helpers/process.js';

/**
 * A stolen session outliving the change that should end it: the attacker holds a user's
 * stateful login token, encapsulated login token and IMS user token; the administrator changes
 * the password, disables the user, deletes and re-creates it, or ends its sessions. Instance A
 * made the change; instance B shares A's store and keys (tokens.userCacheMs: 400 ms).
 */
const CACHE_MS = 400;
const PID = 'com.day.crx.security.token.impl.impl.TokenAuthenticationHandler';
const ADMIN = basicAuth('admin', ADMIN_PASSWORD);
let ims: Awaited<ReturnType<typeof testIms>>;
let a: TestInstance;
let b: RunningInstance;

beforeAll(async () => {
  ims = await testIms();
  const flags = {
    role: 'author',
    'ims.url': ims.url,
    'tokens.userCacheMs': CACHE_MS,
    'repository.aclCacheMs': CACHE_MS,
  } as const;
  a = await testInstance(flags, { listen: true });
  b = await startInstance(
    loadConfig({
      env: {},
      flags: {
        ...flags,
        data: a.data,
        port: 0,
        adminPassword: ADMIN_PASSWORD,
        'security.passwordHashCost': 10,
        logLevel: 'silent',
      },
    }),
    { logger: false },
  );
});
afterAll(async () => {
  await b.close();
  await a.close();
  await ims.close();
});

const post = (base: string, path: string, pairs: [string, string][], auth = ADMIN) => {
  const f = formBody(pairs);
  return http(`${base}${path}`, {
    method: 'POST',
    body: f.body,
    headers: { ...f.headers, authorization: auth },
  });
};

async function createUser(id: string, password: string) {
  const res = await post(a.url, '/libs/granite/security/post/authorizables', [
    ['createUser', ''],
    ['authorizableId', id],
    ['rep:password', password],
  ]);
  expect(res.status).toBe(201);
}

async function login(id: string, password: string, encapsulated: boolean): Promise<string> {
  const mode = await post(a.url, `/system/console/configMgr/${PID}`, [
    ['apply', 'true'],
    ['propertylist', 'token.encapsulated'],
    ['token.encapsulated', String(encapsulated)],
  ]);
  expect(mode.status).toBe(200);
  const f = formBody([
    ['j_username', id],
    ['j_password', password],
  ]);
  const res = await http(`${a.url}/j_security_check`, {
    method: 'POST',
    body: f.body,
    headers: f.headers,
  });
  expect(res.status).toBe(200);
  return cookieValue(res.headers['set-cookie'], 'login-token')!;
}

/** What the attacker stole: every kind of session of `id`. */
async function steal(id: string, password: string) {
  const dev = await post(
    ims.url,
    '/ims/admin/dev-token',
    [
      ['user', id],
      ['environment', 'p1-e1'],
    ],
    basicAuth('admin', IMS_ADMIN_PASSWORD),
  );
  expect(dev.status).toBe(200);
  return {
    stateful: `login-token=${await login(id, password, false)}`,
    encapsulated: `login-token=${await login(id, password, true)}`,
    ims: `Bearer ${dev.json().accessToken}`,
  };
}

type Stolen = Awaited<ReturnType<typeof steal>>;

/** Who each stolen session acts as on `base` (`anonymous`/401 once it is dead). */
async function replay(base: string, stolen: Stolen, id: string) {
  const out: Record<string, number> = {};
  for (const [kind, credential] of Object.entries(stolen)) {
    const headers: Record<string, string> =
      kind === 'ims' ? { authorization: credential } : { cookie: credential };
    const res = await http(`${base}${`/home/users/${id[0]}/${id}.json`}`, { headers });
    out[kind] = res.status;
  }
  return out;
}

const ALIVE = { stateful: 200, encapsulated: 200, ims: 200 };
const DEAD = { stateful: 401, encapsulated: 401, ims: 401 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sessions end when credentials change', () => {
  it('a password change ends every session: at once on A, within tokens.userCacheMs on B', async () => {
    await createUser('pat', 'old-pw');
    const stolen = await steal('pat', 'old-pw');
    expect(await replay(a.url, stolen, 'pat')).toEqual(ALIVE);
    expect(await replay(b.url, stolen, 'pat')).toEqual(ALIVE); // B caches pat as active
    expect((await post(a.url, '/home/users/p/pat', [['rep:password', 'new-pw']])).status).toBe(200);
    expect(await replay(a.url, stolen, 'pat')).toEqual(DEAD);
    await sleep(CACHE_MS + 100);
    expect(await replay(b.url, stolen, 'pat')).toEqual(DEAD);
    // The owner signs in with the new password.
    expect(await replay(a.url, await steal('pat', 'new-pw'), 'pat')).toEqual(ALIVE);
  });

  it('disabling ends every session, and enabling again revives none', async () => {
    await createUser('dee', 'dee-pw');
    const stolen = await steal('dee', 'dee-pw');
    expect((await post(a.url, '/home/users/d/dee', [['disableUser', 'left']])).status).toBe(200);
    expect(await replay(a.url, stolen, 'dee')).toEqual(DEAD);
    expect((await post(a.url, '/home/users/d/dee', [['disableUser', '']])).status).toBe(200);
    expect(await replay(a.url, stolen, 'dee')).toEqual(DEAD);
    await sleep(CACHE_MS + 100);
    expect(await replay(b.url, stolen, 'dee')).toEqual(DEAD);
  });

  it('a user deleted and created again with the same id inherits no session', async () => {
    await createUser('rex', 'rex-pw');
    const stolen = await steal('rex', 'rex-pw');
    expect((await post(a.url, '/home/users/r/rex', [['deleteAuthorizable', '']])).status).toBe(200);
    await createUser('rex', 'other-pw');
    expect(await replay(a.url, stolen, 'rex')).toEqual(DEAD);
    await sleep(CACHE_MS + 100);
    expect(await replay(b.url, stolen, 'rex')).toEqual(DEAD);
    expect(await replay(a.url, await steal('rex', 'other-pw'), 'rex')).toEqual(ALIVE);
  });

  it('an administrator ends all sessions of a user over HTTP (endSessions)', async () => {
    await createUser('eve', 'eve-pw');
    const stolen = await steal('eve', 'eve-pw');
    // Not the user herself, nor anyone but an administrator.
    const self = await post(
      a.url,
      '/home/users/e/eve',
      [['endSessions', '']],
      basicAuth('eve', 'eve-pw'),
    );
    expect(self.status).toBe(403);
    expect(await replay(a.url, stolen, 'eve')).toEqual(ALIVE);
    expect((await post(a.url, '/home/users/e/eve', [['endSessions', '']])).status).toBe(200);
    expect(await replay(a.url, stolen, 'eve')).toEqual(DEAD);
    expect(await replay(a.url, await steal('eve', 'eve-pw'), 'eve')).toEqual(ALIVE);
  });

  it('latchkey users logout ID ends them from the command line', async () => {
    await createUser('cli', 'cli-pw');
    const stolen = await steal('cli', 'cli-pw');
    expect(await replay(a.url, stolen, 'cli')).toEqual(ALIVE);
    const out = await runCli(['users', 'logout', 'cli', '--data', a.data]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('sessions of cli ended');
    await sleep(CACHE_MS + 100);
    expect(await replay(a.url, stolen, 'cli')).toEqual(DEAD);
    expect(await replay(b.url, stolen, 'cli')).toEqual(DEAD);
    const missing = await runCli(['users', 'logout', 'nobody', '--data', a.data]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no such user');
  });
});
