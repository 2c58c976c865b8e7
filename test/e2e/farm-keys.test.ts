import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic } from '../helpers/instance.js';
import { findPostgres, freshSchemaUrl } from '../helpers/postgres.js';
import { runCli, type Server, startServer } from '../helpers/process.js';
import { throwawayCa } from '../helpers/tls.js';

/**
 * Keys to a farm over the instances' admin API, as real processes on HTTPS: an author and two
 * publish instances, each started on its own data folder (so each made its own keys first).
 * `latchkey keys push` sends the author's keys to the publish instances; `latchkey farm
 * rotate-hmac` gives all three a new hmac key while a visitor stays signed in.
 */
const root = mkdtempSync(join(tmpdir(), 'lk-farm-keys-'));
const ca = throwawayCa(root);
const CA = readFileSync(ca.ca, 'utf8');
afterAll(() => rmSync(root, { recursive: true, force: true }));
const PASSWORD = 'farm-keys-admin';
const ADMIN = basic('admin', PASSWORD);
const PID = 'com.day.crx.security.token.impl.impl.TokenAuthenticationHandler';

interface Answer {
  status: number;
  json: Record<string, unknown>;
  setCookie: string;
}

/** A request to an instance, trusting the test CA as a client configured for it would. */
function call(
  url: string,
  options: { form?: Record<string, string>; auth?: string; cookie?: string } = {},
): Promise<Answer> {
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
        const cookie = res.headers['set-cookie']?.join('; ') ?? '';
        resolve({ status: res.statusCode ?? 0, json, setCookie: cookie });
      });
    })
      .on('error', reject)
      .end(body);
  });
}

type Keys = {
  master: { primary: string; versions: string[] };
  hmac: { primary: string; versions: string[] };
};
const keysOf = async (s: Server) => {
  const res = await call(`${s.url}/system/console/crypto/keys.json`, { auth: ADMIN });
  expect(res.status).toBe(200);
  return res.json as unknown as Keys;
};
const login = async (s: Server, user = 'visitor') => {
  const res = await call(`${s.url}/j_security_check`, {
    form: { j_username: user, j_password: `${user}-pw` },
  });
  expect(res.status).toBe(200);
  const token = /login-token=([^;]*)/.exec(res.setCookie)?.[1] ?? '';
  expect(token.startsWith('e1.')).toBe(true);
  return token;
};
const whoIs = async (s: Server, token: string) =>
  (await call(`${s.url}/libs/granite/security/currentuser.json`, { cookie: token })).json[
    'authorizableId'
  ];
const kidOf = (token: string) => token.split('.')[1];

async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return `https://127.0.0.1:${port}`;
}

const farmCli = (args: string[], env: Record<string, string> = {}, input = '') =>
  runCli(args, { LATCHKEY_FARM_PASSWORD: '', ...env }, input);

describe('keys to a farm in one command', () => {
  let author: Server;
  let p1: Server;
  let p2: Server;
  const authorData = join(root, 'author');

  beforeAll(async () => {
    const tls = ['--tls-cert', ca.cert, '--tls-key', ca.key, '--port', '0'];
    const env = { LATCHKEY_ADMIN_PASSWORD: PASSWORD };
    [author, p1, p2] = await Promise.all([
      startServer(['serve', 'author', '--data', authorData, ...tls], env),
      startServer(['serve', 'publish', '--data', join(root, 'p1'), ...tls], env),
      startServer(['serve', 'publish', '--data', join(root, 'p2'), ...tls], env),
    ]);
    for (const s of [author, p1, p2]) {
      const on = await call(`${s.url}/system/console/configMgr/${PID}`, {
        auth: ADMIN,
        form: { apply: 'true', propertylist: 'token.encapsulated', 'token.encapsulated': 'true' },
      });
      expect(on.status).toBe(200);
      const created = await call(`${s.url}/libs/granite/security/post/authorizables`, {
        auth: ADMIN,
        form: { createUser: '', authorizableId: 'visitor', 'rep:password': 'visitor-pw' },
      });
      expect(created.status).toBe(201);
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all([author, p1, p2].map((s) => s?.stop()));
  });

  it('keys push: refuses to send keys to an untrusted certificate, with wrong credentials or credentials in a URL', async () => {
    const before = await keysOf(p1);
    const push = ['keys', 'push', '--data', authorData, '--to', p1.url, p2.url];

    const untrusted = await farmCli(push, { LATCHKEY_FARM_PASSWORD: PASSWORD });
    expect(untrusted.code).toBe(1);
    for (const s of [p1, p2])
      expect(untrusted.stdout).toMatch(
        new RegExp(`${s.url}\\s+failed: tls: its certificate is not trusted`),
      );

    const wrong = await farmCli([...push, '--ca', ca.ca], { LATCHKEY_FARM_PASSWORD: 'not-it' });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(new RegExp(`${p1.url}\\s+failed: unauthorized`));
    expect(wrong.stdout + wrong.stderr).not.toContain('not-it');

    const inUrl = p1.url.replace('https://', `https://admin:${PASSWORD}@`);
    const refused = await farmCli(['keys', 'push', '--data', authorData, '--to', inUrl]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('credentials never go in a URL');
    expect(refused.stderr).not.toContain(PASSWORD);

    const plain = await farmCli([
      'keys',
      'push',
      '--data',
      authorData,
      '--to',
      'http://example.org:4503',
    ]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('only over HTTPS');

    // A path would put the keys API under a repository node: a content write there would store
    // the keys where anonymous readers of /content see them. Refused before anything is sent,
    // for keys push and farm rotate-hmac alike.
    for (const command of [
      ['keys', 'push', '--data', authorData],
      ['farm', 'rotate-hmac'],
    ]) {
      const withPath = await farmCli([...command, '--to', `${p1.url}/content`, '--ca', ca.ca], {
        LATCHKEY_FARM_PASSWORD: PASSWORD,
      });
      expect(withPath.code).toBe(2);
      expect(withPath.stderr).toContain('without a path');
    }

    expect(await keysOf(p1)).toEqual(before);
  });

  it('keys push: every instance verifies the bundle, uses the keys without a restart, and keeps its own as older versions', async () => {
    const own = await keysOf(p1);
    const authorKeys = await keysOf(author);
    // The password from standard input, as a script pipes it.
    const r = await farmCli(
      ['keys', 'push', '--data', authorData, '--to', p1.url, p2.url, '--ca', ca.ca],
      {},
      `${PASSWORD}\n`,
    );
    expect(r.code, r.stderr).toBe(0);
    for (const s of [p1, p2])
      expect(r.stdout).toMatch(
        new RegExp(
          `${s.url}\\s+ok: verified and in use, no restart \\(master ${authorKeys.master.primary}, hmac ${authorKeys.hmac.primary}\\)`,
        ),
      );
    expect(r.stdout).toContain('every instance (2) uses these keys');
    const after = await keysOf(p1);
    expect(after.master.primary).toBe(authorKeys.master.primary);
    expect(after.hmac.primary).toBe(authorKeys.hmac.primary);
    expect(after.hmac.versions).toContain(own.hmac.primary);
    expect(after.master.versions).toContain(own.master.primary);

    // A visitor signed in on any instance is now served by every one (no restart happened).
    const token = await login(author);
    for (const s of [author, p1, p2]) expect(await whoIs(s, token)).toBe('visitor');

    // Again, as JSON: nothing changes, every instance reports the same keys.
    const again = await farmCli(
      ['keys', 'push', '--data', authorData, '--to', p1.url, p2.url, '--ca', ca.ca, '--json'],
      { LATCHKEY_FARM_PASSWORD: PASSWORD },
    );
    expect(again.code, again.stderr).toBe(0);
    const report = JSON.parse(again.stdout) as {
      instances: { url: string; ok: boolean; hmac: string }[];
    };
    expect(report.instances.map((i) => [i.url, i.ok, i.hmac])).toEqual([
      [p1.url, true, authorKeys.hmac.primary],
      [p2.url, true, authorKeys.hmac.primary],
    ]);
  });

  it('the keys API refuses a damaged bundle, a sealed one, and anyone but an administrator', async () => {
    const exported = join(root, 'keys.bundle');
    const exp = await runCli(['keys', 'export', '--out', exported, '--data', authorData]);
    expect(exp.code, exp.stderr).toBe(0);
    const bundle = JSON.parse(readFileSync(exported, 'utf8'));
    const damaged = JSON.stringify({
      ...bundle,
      keys: { ...bundle.keys, hmac: [Buffer.alloc(32, 7).toString('base64')] },
    });
    const url = `${p1.url}/system/console/crypto/keys`;
    const before = await keysOf(p1);
    const refused = await call(url, { auth: ADMIN, form: { bundle: damaged } });
    expect(refused.status).toBe(400);
    expect(refused.json['error']).toBe('invalid_bundle');
    expect(String(refused.json['error_description'])).toContain('checksum mismatch');
    const sealedFile = join(root, 'sealed.bundle');
    const sealedExport = await runCli(
      ['keys', 'export', '--out', sealedFile, '--data', authorData],
      { LATCHKEY_KEYS_PASSPHRASE: 'a passphrase' },
    );
    expect(sealedExport.code, sealedExport.stderr).toBe(0);
    const sealed = await call(url, {
      auth: ADMIN,
      form: { bundle: readFileSync(sealedFile, 'utf8') },
    });
    expect(sealed.status).toBe(400);
    expect(String(sealed.json['error_description'])).toContain('this bundle is sealed');
    expect((await call(url, { form: { bundle: JSON.stringify(bundle) } })).status).toBe(401);
    expect(
      (
        await call(url, {
          auth: basic('visitor', 'visitor-pw'),
          form: { bundle: JSON.stringify(bundle) },
        })
      ).status,
    ).toBe(403);
    const activate = await call(`${url}/activate`, {
      auth: ADMIN,
      form: { kind: 'hmac', id: 'ab'.repeat(8) },
    });
    expect(activate.status).toBe(409);
    expect(activate.json['error']).toBe('unknown_key');
    expect(await keysOf(p1)).toEqual(before);
  });

  it('farm rotate-hmac: a failed distribution activates nothing; a full run switches every instance while old tokens keep working', async () => {
    const oldToken = await login(p1);
    const oldKid = kidOf(oldToken);
    const env = { LATCHKEY_FARM_PASSWORD: PASSWORD };

    // One instance cannot be reached: the key is distributed to the others but nobody signs with it.
    const down = await deadUrl();
    const stopped = await farmCli(
      ['farm', 'rotate-hmac', '--to', p1.url, p2.url, down, '--ca', ca.ca],
      env,
    );
    expect(stopped.code).toBe(1);
    const unused = /new hmac key ([0-9a-f]{16})/.exec(stopped.stdout)?.[1];
    expect(unused).toBeDefined();
    expect(stopped.stdout).toMatch(new RegExp(`${down}\\s+failed: unreachable`));
    expect(stopped.stdout).toContain(
      `stopped: not every instance holds hmac ${unused}, so none signs with it`,
    );
    expect(stopped.stdout).not.toContain('phase 2/2');
    expect((await keysOf(p1)).hmac.versions).toContain(unused);
    for (const s of [p1, p2]) expect(kidOf(await login(s))).toBe(oldKid);

    // --activate checks first: an instance lacking the key stops it before anything is activated.
    const lacking = await farmCli(
      ['farm', 'rotate-hmac', '--activate', unused!, '--to', author.url, p1.url, '--ca', ca.ca],
      env,
    );
    expect(lacking.code).toBe(1);
    expect(lacking.stdout).toMatch(
      new RegExp(
        `${author.url}\\s+failed: not_verified: the instance does not hold hmac ${unused}`,
      ),
    );
    expect(kidOf(await login(p1))).toBe(oldKid);

    // The whole farm.
    const r = await farmCli(
      ['farm', 'rotate-hmac', '--to', author.url, p1.url, p2.url, '--ca', ca.ca],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const fresh = /^new hmac key ([0-9a-f]{16})$/.exec(lines[0]!)?.[1];
    expect(fresh).toBeDefined();
    expect(lines[1]).toBe(
      'phase 1/2: distributing it as verify-only (no instance signs with it yet)',
    );
    // Every instance verifies the new key before the first one signs with it.
    expect(lines.slice(2, 5).sort()).toEqual(
      [author, p1, p2].map((s) => `  ${s.url}  verifies with it`).sort(),
    );
    expect(lines[5]).toBe('phase 2/2: activating it for signing');
    expect(lines.slice(6, 9).sort()).toEqual(
      [author, p1, p2]
        .map(
          (s) =>
            `  ${s.url}  signs with it (hmac ${oldKid} keeps verifying its tokens until they expire)`,
        )
        .sort(),
    );
    expect(lines[9]).toBe(
      `done: every instance (3) signs with hmac ${fresh}; tokens signed with older keys keep verifying until they expire`,
    );

    // Nobody was logged out: the old token works everywhere; new tokens carry the new key, everywhere.
    for (const s of [author, p1, p2]) expect(await whoIs(s, oldToken)).toBe('visitor');
    const newToken = await login(p2);
    expect(kidOf(newToken)).toBe(fresh);
    for (const s of [author, p1, p2]) expect(await whoIs(s, newToken)).toBe('visitor');
    for (const s of [author, p1, p2]) expect((await keysOf(s)).hmac.primary).toBe(fresh);

    // Running the second phase again is harmless.
    const again = await farmCli(
      ['farm', 'rotate-hmac', '--activate', fresh!, '--to', p1.url, '--ca', ca.ca, '--json'],
      env,
    );
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ id: fresh, outcome: 'done' });
  }, 60_000);
});

const base = await findPostgres();

describe.runIf(base)('an author cluster on one PostgreSQL store (keys in the repository)', () => {
  const schema = base ? freshSchemaUrl(base) : undefined;
  let a1: Server;
  let a2: Server;

  beforeAll(async () => {
    const env = { LATCHKEY_ADMIN_PASSWORD: PASSWORD, LATCHKEY_CRYPTO_KEY_STORAGE: 'repository' };
    const author = (name: string) =>
      startServer(
        [
          'serve',
          'author',
          '--data',
          join(root, name),
          '--db',
          schema!.url,
          '--tls-cert',
          ca.cert,
          '--tls-key',
          ca.key,
          '--port',
          '0',
        ],
        env,
      );
    a1 = await author('c1'); // first: creates the keys in the shared store
    a2 = await author('c2');
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a1?.stop(), a2?.stop()]);
    await schema?.drop();
  });

  it('farm rotate-hmac through one process of the cluster reaches the other through the change channel', async () => {
    const before = await keysOf(a2);
    const r = await farmCli(['farm', 'rotate-hmac', '--to', a1.url, '--ca', ca.ca], {
      LATCHKEY_FARM_PASSWORD: PASSWORD,
    });
    expect(r.code, r.stderr).toBe(0);
    const fresh = /^new hmac key ([0-9a-f]{16})$/m.exec(r.stdout)?.[1];
    expect(fresh).toBeDefined();
    let seen: Keys | undefined;
    for (let i = 0; i < 100 && seen?.hmac.primary !== fresh; i++) {
      await new Promise((w) => setTimeout(w, 50));
      seen = await keysOf(a2);
    }
    expect(seen?.hmac.primary).toBe(fresh);
    expect(seen?.hmac.versions).toContain(before.hmac.primary);
  }, 60_000);
});
