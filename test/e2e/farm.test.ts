import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { basic } from '../helpers/instance.js';
import { runCli, type Server, startServer } from '../helpers/process.js';

const root = mkdtempSync(join(tmpdir(), 'lk-farm-'));
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(root, { recursive: true, force: true });
});

const PID = 'com.day.crx.security.token.impl.impl.TokenAuthenticationHandler';
const ADMIN = basic('admin', 'farm-admin');
const env = { LATCHKEY_ADMIN_PASSWORD: 'farm-admin' };

async function publish(name: string): Promise<Server> {
  const s = await startServer(['serve', 'publish', '--port', '0', '--data', join(root, name)], env);
  servers.push(s);
  return s;
}
const post = (url: string, fields: Record<string, string>, auth = ADMIN) =>
  fetch(url, {
    method: 'POST',
    headers: { authorization: auth },
    body: new URLSearchParams(fields),
    redirect: 'manual',
  });
const encapsulated = (s: Server, on: boolean) =>
  post(`${s.url}/system/console/configMgr/${PID}`, {
    apply: 'true',
    propertylist: 'token.encapsulated',
    'token.encapsulated': String(on),
  });
const createUser = (s: Server, id: string) =>
  post(`${s.url}/libs/granite/security/post/authorizables`, {
    createUser: '',
    authorizableId: id,
    'rep:password': `${id}-pw`,
  });
async function login(s: Server, id: string): Promise<string> {
  const res = await fetch(`${s.url}/j_security_check`, {
    method: 'POST',
    body: new URLSearchParams({ j_username: id, j_password: `${id}-pw` }),
  });
  expect(res.status).toBe(200);
  return /login-token=([^;]*)/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? '';
}
const ownNode = (s: Server, id: string, token: string) =>
  fetch(`${s.url}/home/users/${id[0]}/${id}.json`, { headers: { cookie: `login-token=${token}` } });

describe('a publish farm without sticky sessions', () => {
  it('serves a user signed in on one instance from every instance sharing the hmac key', async () => {
    const p1 = await publish('p1');
    expect((await encapsulated(p1, true)).status).toBe(200);
    expect((await createUser(p1, 'visitor')).status).toBe(201);
    expect((await createUser(p1, 'onlyone')).status).toBe(201);

    // Share the keys: export on publish 1, import on publish 2 before its first start.
    const bundle = join(root, 'keys.bundle');
    const exp = await runCli([
      'keys',
      'export',
      '--out',
      bundle,
      '--data',
      join(root, 'p1'),
      '--role',
      'publish',
    ]);
    expect(exp.code, exp.stderr).toBe(0);
    const imp = await runCli([
      'keys',
      'import',
      bundle,
      '--data',
      join(root, 'p2'),
      '--role',
      'publish',
    ]);
    expect(imp.code, imp.stderr).toBe(0);
    const p2 = await publish('p2');
    await encapsulated(p2, true);
    expect((await createUser(p2, 'visitor')).status).toBe(201);

    // Round robin, as a load balancer without stickiness would.
    const token = await login(p1, 'visitor');
    expect(token.startsWith('e1.')).toBe(true);
    for (let i = 0; i < 10; i++) {
      const res = await ownNode(i % 2 ? p2 : p1, 'visitor', token);
      expect(res.status, `request ${i}`).toBe(200);
    }

    // A user who does not exist on publish 2 is refused there.
    const only = await login(p1, 'onlyone');
    expect((await ownNode(p1, 'onlyone', only)).status).toBe(200);
    const refusedMissing = await ownNode(p2, 'onlyone', only);
    expect(refusedMissing.status).toBe(401);
    expect(
      ((await refusedMissing.json()) as { error_description: string }).error_description,
    ).toContain('user onlyone does not exist on this instance');

    // Encapsulated tokens off: publish 1 issues stateful tokens, which publish 2 cannot know.
    await encapsulated(p1, false);
    const stateful = await login(p1, 'visitor');
    expect(stateful.startsWith('s1.')).toBe(true);
    expect((await ownNode(p1, 'visitor', stateful)).status).toBe(200);
    const refusedStateful = await ownNode(p2, 'visitor', stateful);
    expect(refusedStateful.status).toBe(401);
    // The answer says why (the log says it too, but at most once a minute per address).
    expect(
      ((await refusedStateful.json()) as { error_description: string }).error_description,
    ).toContain('stateful login-token not found');
    await encapsulated(p1, true);

    // Publish 1 goes down: the user stays signed in on publish 2.
    await p1.stop();
    expect((await ownNode(p2, 'visitor', token)).status).toBe(200);

    // An instance with other keys refuses the token, and its log names the unknown key id.
    const p3 = await publish('p3');
    await createUser(p3, 'visitor');
    const kid = token.split('.')[1]!;
    const refused = await ownNode(p3, 'visitor', token);
    expect(refused.status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(p3.stdout()).toContain(`unknown hmac key ${kid}`);
  });
});
