import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_TYPES, type AuditLine } from '../../src/audit/types.js';
import { basicAuth, cookieValue, formBody, http } from '../helpers/http.js';
import { runCli, type Server, startServer } from '../helpers/process.js';

/**
 * Every security event, caused as a user (or an attacker) causes it, over real HTTP against real
 * processes or with the real command, then read back with `latchkey audit --json`, as the README
 * tells an administrator to.
 */
const root = mkdtempSync(join(tmpdir(), 'lk-audit-'));
const imsData = join(root, 'ims');
const authorData = join(root, 'author');
const PASSWORD = `admin-${randomBytes(6).toString('hex')}`;
const ALICE_PASSWORD = `alice-${randomBytes(6).toString('hex')}`;
const ALICE_NEW_PASSWORD = `alice-new-${randomBytes(6).toString('hex')}`;
const ADMIN = basicAuth('admin', PASSWORD);
const PID = 'com.day.crx.security.token.impl.impl.TokenAuthenticationHandler';
/** Every secret this test makes or sees: none may appear in an audit line. */
const secrets: string[] = [PASSWORD, ALICE_PASSWORD, ALICE_NEW_PASSWORD];

let ims: Server;
let author: Server;

beforeAll(async () => {
  const env = { LATCHKEY_ADMIN_PASSWORD: PASSWORD };
  ims = await startServer(['serve', 'ims', '--data', imsData, '--port', '0'], env, 'ims');
  author = await startServer(
    ['serve', 'author', '--data', authorData, '--port', '0', '--ims', ims.url],
    env,
    'author',
  );
}, 60_000);
afterAll(async () => {
  await author?.stop();
  await ims?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** `latchkey audit --json ARGS` on a data folder, parsed. */
async function audit(data: string, ...args: string[]): Promise<AuditLine[]> {
  const r = await runCli(['audit', '--json', '--data', data, ...args]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditLine);
}
const of = (lines: AuditLine[], type: string) => lines.filter((l) => l.type === type);

const post = (
  base: string,
  path: string,
  pairs: [string, string][],
  headers: Record<string, string> = { authorization: ADMIN },
  localAddress?: string,
) => {
  const f = formBody(pairs);
  return http(`${base}${path}`, {
    method: 'POST',
    body: f.body,
    headers: { ...f.headers, ...headers },
    ...(localAddress ? { localAddress } : {}),
  });
};
const login = (user: string, password: string, localAddress?: string) =>
  post(
    author.url,
    '/j_security_check',
    [
      ['j_username', user],
      ['j_password', password],
    ],
    {},
    localAddress,
  );

describe('the audit log records every security event (real processes, read with latchkey audit)', () => {
  it('login: form success and failure, Basic failure, each with address, role and instance', async () => {
    expect((await login('admin', 'wrong-password')).status).toBe(403);
    expect((await login('admin', PASSWORD)).status).toBe(200);
    expect(
      (
        await http(`${author.url}/content.json`, {
          headers: { authorization: basicAuth('admin', 'nope') },
        })
      ).status,
    ).toBe(401);
    const lines = of(await audit(authorData, '--type', 'login'), 'login');
    const form = lines.filter((l) => l.details?.['method'] === 'form');
    expect(form.map((l) => l.outcome)).toEqual(['failure', 'success']);
    expect(lines.some((l) => l.details?.['method'] === 'basic' && l.outcome === 'failure')).toBe(
      true,
    );
    const port = new URL(author.url).port;
    for (const l of lines) {
      expect(l.actor).toBe('admin');
      expect(l.address).toBe('127.0.0.1');
      expect(l.role).toBe('author');
      expect(l.instance.endsWith(`:${port}`)).toBe(true);
      expect(Date.parse(l.time)).toBeGreaterThan(Date.now() - 120_000);
    }
  });

  it('login: IMS administrator and client authentication failures', async () => {
    const admin = await http(`${ims.url}/ims/admin/dev-tokens`, {
      headers: { authorization: basicAuth('admin', 'not-it') },
    });
    expect(admin.status).toBe(401);
    const client = await post(
      ims.url,
      '/ims/token/v3',
      [
        ['grant_type', 'client_credentials'],
        ['client_id', 'cm-p1-e1-integration'],
        ['client_secret', 'wrong'],
      ],
      {},
    );
    expect(client.json().error).toBe('invalid_client');
    const lines = of(await audit(imsData), 'login');
    expect(lines.find((l) => l.details?.['method'] === 'ims-admin')).toMatchObject({
      outcome: 'failure',
      actor: 'admin',
      role: 'ims',
      address: '127.0.0.1',
    });
    expect(lines.find((l) => l.details?.['method'] === 'client')).toMatchObject({
      outcome: 'failure',
      actor: 'cm-p1-e1-integration',
    });
  });

  let cookie = '';
  it('token.issued (login token) and logout', async () => {
    const res = await login('admin', PASSWORD);
    cookie = `login-token=${cookieValue(res.headers['set-cookie'], 'login-token')}`;
    secrets.push(cookieValue(res.headers['set-cookie'], 'login-token')!);
    const out = await http(`${author.url}/system/sling/logout`, {
      method: 'POST',
      headers: { cookie },
    });
    expect(out.status).toBe(200);
    const lines = await audit(authorData);
    expect(of(lines, 'token.issued').at(-1)).toMatchObject({
      actor: 'admin',
      target: 'admin',
      details: { kind: 'login', format: 'stateful' },
    });
    expect(of(lines, 'logout').at(-1)).toMatchObject({
      actor: 'admin',
      address: '127.0.0.1',
      details: { kind: 'stateful' },
    });
  });

  let credentials: {
    integration: Record<string, unknown> & { technicalAccount: Record<string, string> };
  };
  let second: typeof credentials;
  it('credentials.created (command and admin API), token.issued (access), token.revoked', async () => {
    const created = await runCli([
      'credentials',
      'create',
      '--environment',
      'p1-e1',
      '--data',
      imsData,
    ]);
    expect(created.code, created.stderr).toBe(0);
    credentials = JSON.parse(created.stdout);
    const api = await post(ims.url, '/ims/admin/credentials', [['environment', 'p1-e1']], {
      authorization: basicAuth('admin', PASSWORD),
    });
    expect(api.status).toBe(201);
    second = api.json();
    const { clientId, clientSecret } = credentials.integration.technicalAccount;
    secrets.push(clientSecret!, String(credentials.integration['privateKey']));
    secrets.push(second.integration.technicalAccount['clientSecret']!);
    const token = await post(
      ims.url,
      '/ims/token/v3',
      [
        ['grant_type', 'client_credentials'],
        ['client_id', clientId!],
        ['client_secret', clientSecret!],
      ],
      {},
    );
    expect(token.status).toBe(200);
    const accessToken = token.json().access_token as string;
    secrets.push(accessToken);
    const revoke = await post(
      ims.url,
      '/ims/revoke',
      [
        ['client_id', clientId!],
        ['client_secret', clientSecret!],
        ['token', accessToken],
      ],
      {},
    );
    expect(revoke.status).toBe(200);
    const jti = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()).jti;

    const lines = await audit(imsData);
    const made = of(lines, 'credentials.created');
    expect(made.map((l) => l.target)).toEqual([
      clientId,
      second.integration.technicalAccount['clientId'],
    ]);
    expect(made[0]!.actor).toMatch(/^cli:/);
    expect(made[0]!.address).toBeUndefined();
    expect(made[1]).toMatchObject({ actor: 'admin', address: '127.0.0.1' });
    expect(of(lines, 'token.issued').at(-1)).toMatchObject({
      actor: clientId,
      details: { kind: 'access', grant: 'client_credentials', jti, client_id: clientId },
    });
    expect(of(lines, 'token.revoked').at(-1)).toMatchObject({
      actor: clientId,
      details: { kind: 'access', jti },
    });
  });

  it('certificate.added and certificate.removed', async () => {
    const clientId = credentials.integration.technicalAccount['clientId']!;
    const pem = String(second.integration['publicKey']);
    const added = await post(ims.url, `/ims/admin/credentials/${clientId}/certificates`, [
      ['certificate', pem],
    ]);
    expect(added.status, added.text).toBe(200);
    // The audit log names certificates as credentials list does: lowercase hex.
    const print = new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase();
    expect(JSON.parse(added.text)).toMatchObject({ fingerprint: print });
    const removed = await http(
      `${ims.url}/ims/admin/credentials/${clientId}/certificates/${print}`,
      { method: 'DELETE', headers: { authorization: ADMIN } },
    );
    expect(removed.status, removed.text).toBe(200);
    const lines = await audit(imsData, '--type', 'certificate');
    expect(lines.map((l) => [l.type, l.target, l.details?.['fingerprint'], l.actor])).toEqual([
      ['certificate.added', clientId, print, 'admin'],
      ['certificate.removed', clientId, print, 'admin'],
    ]);
  });

  it('token.issued (development token) and token.revoked (by user), credentials.revoked', async () => {
    const dev = await runCli([
      'token',
      'dev',
      '--user',
      'alice',
      '--environment',
      'p1-e1',
      '--data',
      imsData,
    ]);
    expect(dev.code, dev.stderr).toBe(0);
    secrets.push(JSON.parse(dev.stdout).accessToken);
    expect((await runCli(['token', 'revoke', '--user', 'alice', '--data', imsData])).code).toBe(0);
    const clientId = second.integration.technicalAccount['clientId']!;
    const revoked = await post(ims.url, `/ims/admin/credentials/${clientId}/revoke`, []);
    expect(revoked.status).toBe(200);
    const lines = await audit(imsData, '--user', 'alice');
    expect(of(lines, 'token.issued').at(-1)).toMatchObject({
      target: 'alice',
      details: { kind: 'dev', grant: 'dev-token' },
    });
    expect(of(lines, 'token.revoked').at(-1)).toMatchObject({
      target: 'alice',
      details: { kind: 'dev', revoked: 1 },
    });
    expect(of(await audit(imsData), 'credentials.revoked').at(-1)).toMatchObject({
      actor: 'admin',
      target: clientId,
    });
  });

  it('signing-key.rotated and config.changed (the IMS public URL)', async () => {
    expect((await runCli(['ims', 'rotate-signing-key', '--data', imsData])).code).toBe(0);
    const moved = await runCli([
      'ims',
      'public-url',
      'https://ims.example:8443',
      '--data',
      imsData,
    ]);
    expect(moved.code, moved.stderr).toBe(0);
    const lines = await audit(imsData);
    expect(of(lines, 'signing-key.rotated')).toHaveLength(1);
    expect(of(lines, 'config.changed').at(-1)).toMatchObject({
      target: 'ims.publicUrl',
      details: { current: 'https://ims.example:8443' },
    });
  });

  it('users and groups: created, members changed, password changed, disabled, enabled, sessions ended, deleted', async () => {
    const users = '/libs/granite/security/post/authorizables';
    expect(
      (
        await post(author.url, users, [
          ['createGroup', ''],
          ['authorizableId', 'editors'],
        ])
      ).status,
    ).toBe(201);
    expect(
      (
        await post(author.url, users, [
          ['createUser', ''],
          ['authorizableId', 'alice'],
          ['rep:password', ALICE_PASSWORD],
        ])
      ).status,
    ).toBe(201);
    const alice = '/home/users/a/alice';
    const steps: [string, [string, string][]][] = [
      ['/home/groups/e/editors.rw.html', [['addMembers', 'alice']]],
      [alice, [['rep:password', ALICE_NEW_PASSWORD]]],
      [alice, [['disableUser', 'left']]],
      [alice, [['disableUser', '']]],
      [alice, [['endSessions', '']]],
      [alice, [['deleteAuthorizable', '']]],
      ['/home/groups/e/editors', [['deleteAuthorizable', '']]],
    ];
    for (const [path, pairs] of steps) {
      const r = await post(author.url, path, pairs);
      expect(r.status, `${path} ${r.text}`).toBeLessThan(300);
    }
    const lines = (await audit(authorData, '--type', 'user,group')).filter(
      (l) => l.target === 'alice' || l.target === 'editors',
    );
    expect(lines.map((l) => `${l.type} ${l.target}`)).toEqual([
      'group.created editors',
      'user.created alice',
      'group.members-changed editors',
      'user.password-changed alice',
      'user.disabled alice',
      'user.enabled alice',
      'user.sessions-ended alice',
      'user.deleted alice',
      'group.deleted editors',
    ]);
    for (const l of lines) expect(l).toMatchObject({ actor: 'admin', address: '127.0.0.1' });
    expect(lines[2]!.details).toEqual({ added: ['alice'], removed: [] });
    expect(lines[4]!.details).toEqual({ reason: 'left' });
  });

  it('acl.changed: modifyAce and deleteAce', async () => {
    expect((await post(author.url, '/content/site', [['jcr:title', 'Site']])).status).toBe(201);
    const mod = await post(author.url, '/content/site.modifyAce.json', [
      ['principalId', 'everyone'],
      ['privilege@jcr:read', 'granted'],
    ]);
    expect(mod.status).toBe(200);
    const del = await post(author.url, '/content/site.deleteAce.json', [[':applyTo', 'everyone']]);
    expect(del.status).toBe(200);
    const lines = of(await audit(authorData), 'acl.changed');
    expect(lines.map((l) => l.details)).toEqual([
      { principal: 'everyone', 'jcr:read': 'granted' },
      { removed: ['everyone'] },
    ]);
    expect(lines[0]).toMatchObject({ target: '/content/site', actor: 'admin' });
  });

  it('config.changed: the token handler (configMgr) and a protected configuration (field names only)', async () => {
    const cfg = await post(author.url, `/system/console/configMgr/${PID}`, [
      ['apply', 'true'],
      ['propertylist', 'token.encapsulated'],
      ['token.encapsulated', 'true'],
    ]);
    expect(cfg.status).toBe(200);
    const secret = `p8e-${randomBytes(8).toString('hex')}`;
    secrets.push(secret);
    const pc = await post(author.url, '/system/console/configs/ims/default', [
      ['imsEndpoint', 'ims.example:443'],
      ['org', 'ABC@AdobeOrg'],
      ['technicalAccountId', 't@techacct.adobe.com'],
      ['clientId', 'cm-p1-e1-integration'],
      ['clientSecret', secret],
      ['privateKey', 'not-a-real-key-but-secret-all-the-same'],
      ['metascopes', 'ent_aem_cloud_api'],
    ]);
    expect(pc.status, pc.text).toBe(201);
    secrets.push('not-a-real-key-but-secret-all-the-same');
    const lines = of(await audit(authorData), 'config.changed');
    expect(lines[0]).toMatchObject({
      target: PID,
      actor: 'admin',
      details: { changed: ['token.encapsulated'], 'token.encapsulated': true },
    });
    expect(lines[1]).toMatchObject({
      target: '/conf/latchkey/ims/default',
      details: { kind: 'ims', name: 'default', created: true },
    });
    expect(lines[1]!.details?.['fields']).toContain('clientSecret');
  });

  it('csrf.refused: a foreign origin, and a cookie write without a CSRF token', async () => {
    const foreign = await post(author.url, '/content/site', [['x', '1']], {
      authorization: ADMIN,
      origin: 'http://evil.example',
    });
    expect(foreign.status).toBe(403);
    const res = await login('admin', PASSWORD);
    const c = `login-token=${cookieValue(res.headers['set-cookie'], 'login-token')}`;
    const noToken = await post(author.url, '/content/site', [['x', '1']], { cookie: c });
    expect(noToken.json().error).toBe('csrf_token');
    const lines = of(await audit(authorData), 'csrf.refused');
    expect(lines.map((l) => l.details?.['reason'])).toEqual(['origin', 'token']);
    expect(lines[0]).toMatchObject({
      outcome: 'refused',
      target: '/content/site',
      details: { origin: 'http://evil.example', method: 'POST' },
    });
    expect(lines[1]).toMatchObject({ actor: 'admin', details: { token: 'missing' } });
  });

  it('throttle.refused: from 127.0.0.2, repeats within a minute written once with a count', async () => {
    const tries = [];
    for (let i = 0; i < 11; i++)
      tries.push((await login('victim', `guess-${i}`, '127.0.0.2')).status);
    expect(tries.slice(0, 5)).toEqual([403, 403, 403, 403, 403]);
    expect(tries.slice(5)).toEqual([429, 429, 429, 429, 429, 429]);
    const lines = await audit(authorData, '--user', 'victim');
    expect(of(lines, 'login').map((l) => l.address)).toEqual(Array(5).fill('127.0.0.2'));
    expect(of(lines, 'throttle.refused')).toEqual([
      expect.objectContaining({
        outcome: 'refused',
        actor: 'victim',
        address: '127.0.0.2',
        details: { method: 'form' },
      }),
    ]);
  });

  it('keys: rotated, exported, imported (bundle and AEM), rewrapped, migrated, by the command as the OS user', async () => {
    const bundle = join(root, 'keys.bundle');
    const aem = join(root, 'aem-master');
    writeFileSync(aem, randomBytes(16));
    const steps = [
      ['keys', 'rotate', 'master'],
      ['keys', 'export', '--out', bundle],
      ['keys', 'import', bundle, '--keep-existing'],
      ['keys', 'import-aem', '--master', aem],
      ['keys', 'rewrap'],
      ['keys', 'migrate', '--to', 'repository'],
    ];
    for (const args of steps) {
      const r = await runCli([...args, '--data', authorData]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    const lines = await audit(authorData, '--type', 'keys');
    expect(lines.map((l) => l.type)).toEqual([
      'keys.rotated',
      'keys.exported',
      'keys.imported',
      'keys.imported',
      'keys.rewrapped',
      'keys.migrated',
    ]);
    for (const l of lines) {
      expect(l.actor).toMatch(/^cli:/);
      expect(l.instance).toMatch(/:cli$/);
      expect(l.address).toBeUndefined();
    }
    expect(lines[0]!.details).toMatchObject({ kind: 'master' });
    expect(lines[2]!.details).toMatchObject({ source: 'bundle', keptExisting: true });
    expect(lines[3]!.details).toMatchObject({ source: 'aem' });
    expect(lines[5]!.details).toMatchObject({ from: 'Bundle', to: 'JCR' });
    // A key file's bytes never reach the log; its id (a prefix of its SHA-256) does.
    secrets.push(readFileSync(aem).toString('hex'), readFileSync(aem).toString('base64'));
  });

  it('every event type is recorded, and no line holds a password, secret, key or token', async () => {
    // Stopping the author writes the refusals it was still counting.
    await author.stop();
    const lines = [...(await audit(authorData)), ...(await audit(imsData))];
    const types = new Set(lines.map((l) => l.type));
    expect(AUDIT_TYPES.filter((t) => !types.has(t))).toEqual([]);
    const counted = of(lines, 'throttle.refused').find((l) => l.count !== undefined);
    expect(counted?.count).toBe(5);
    const text = [authorData, imsData]
      .map((d) => readFileSync(join(d, 'audit', 'audit.log'), 'utf8'))
      .join('');
    for (const s of secrets) expect(text.includes(s), 'a secret is in the audit log').toBe(false);
    for (const d of [authorData, imsData]) {
      expect(statSync(join(d, 'audit', 'audit.log')).mode & 0o777).toBe(0o600);
      expect(statSync(join(d, 'audit')).mode & 0o777).toBe(0o700);
    }
  });
});
