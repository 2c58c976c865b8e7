import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { readString } from '../../src/repository/properties.js';
import { findUser } from '../../src/repository/users/paths.js';
import { type RunningInstance, startInstance } from '../../src/runtime/instance.js';
import { basicAuth } from '../helpers/http.js';
import { ADMIN_PASSWORD } from '../helpers/instance.js';

/**
 * User enumeration by timing after the cost changes: a password hashed before
 * `security.passwordHashCost` was raised kept its old cost, while an unknown user name costs a
 * check at the configured one, so the time a failed sign-in takes told known names from unknown
 * ones. Now a successful sign-in hashes the password again at the configured cost: after one,
 * a known name's check costs what an unknown name's does. (No timing is measured here: what is
 * checked is the cost the stored hash says.)
 */
const data = mkdtempSync(join(tmpdir(), 'lk-rehash-'));
let running: RunningInstance | undefined;
afterAll(async () => {
  await running?.close();
  rmSync(data, { recursive: true, force: true });
});

async function start(cost: number): Promise<RunningInstance> {
  const config = loadConfig({
    env: {},
    flags: {
      data,
      port: 0,
      adminPassword: ADMIN_PASSWORD,
      logLevel: 'silent',
      'security.passwordHashCost': cost,
    },
  });
  running = await startInstance(config, { listen: true, logger: false });
  return running;
}

async function costOf(instance: RunningInstance, id: string): Promise<string | undefined> {
  const user = await findUser(instance.store, id);
  const hash = user && readString(user.properties, 'rep:password');
  return hash && /^\$scrypt\$ln=(\d+),/.exec(hash)?.[1];
}

describe('password hashes follow the configured cost', () => {
  it('after a cost change, one sign-in stores the hash at the new cost; sessions go on', async () => {
    const first = await start(10);
    const created = await fetch(`${first.url}/libs/granite/security/post/authorizables`, {
      method: 'POST',
      headers: {
        authorization: basicAuth('admin', ADMIN_PASSWORD),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'createUser=&authorizableId=alice&rep:password=alice-password',
    });
    expect(created.status).toBe(201);
    expect(await costOf(first, 'alice')).toBe('10');
    const login = await fetch(`${first.url}/j_security_check`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'j_username=alice&j_password=alice-password',
    });
    const cookie = /login-token=[^;]+/.exec(login.headers.get('set-cookie') ?? '')?.[0];
    expect(cookie).toBeDefined();
    await first.close();
    running = undefined;

    const second = await start(11);
    const whoAmI = (headers: Record<string, string>) =>
      fetch(`${second.url}/libs/granite/security/currentuser.json`, { headers }).then(
        async (r) => ({
          status: r.status,
          id: ((await r.json()) as { authorizableId?: string }).authorizableId,
        }),
      );
    // A wrong password changes nothing.
    expect((await whoAmI({ authorization: basicAuth('alice', 'wrong') })).status).toBe(401);
    expect(await costOf(second, 'alice')).toBe('10');
    // One sign-in with the right one (HTTP Basic here; the login form does the same).
    expect(await whoAmI({ authorization: basicAuth('alice', 'alice-password') })).toEqual({
      status: 200,
      id: 'alice',
    });
    expect(await costOf(second, 'alice')).toBe('11');
    // The same password still works, and the session made before goes on.
    expect((await whoAmI({ authorization: basicAuth('alice', 'alice-password') })).id).toBe(
      'alice',
    );
    expect((await whoAmI({ cookie: cookie! })).id).toBe('alice');
  });
});
