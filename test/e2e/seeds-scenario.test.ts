import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { basic } from '../helpers/instance.js';
import { runCli, type Server, startServer } from '../helpers/process.js';

const root = mkdtempSync(join(tmpdir(), 'lk-seeds-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const data = join(root, 'author');
const ADMIN = basic('admin', 'seeds-admin');
const env = { LATCHKEY_ADMIN_PASSWORD: 'seeds-admin', LATCHKEY_CRYPTO_KEY_STORAGE: 'repository' };
const start = () => startServer(['serve', 'author', '--port', '0', '--data', data], env);

async function health(server: Server) {
  const res = await fetch(`${server.url}/system/health`);
  return {
    code: res.status,
    body: (await res.json()) as { status: string; checks: { name: string; status: string }[] },
  };
}

async function sealedSecret(server: Server): Promise<string> {
  const res = await fetch(`${server.url}/system/console/configs/ims/default.json`, {
    headers: { authorization: ADMIN },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { clientSecret: string }).clientSecret;
}

async function opens(sealed: string): Promise<string> {
  const res = await runCli(['unprotect', sealed, '--data', data]);
  expect(res.code, res.stderr).toBe(0);
  return res.stdout.trim();
}

/** Health's IMS-configuration check: a real token exchange at the configuration's IMS. */
async function tokenObtained(server: Server): Promise<string | undefined> {
  const check = (await health(server)).body.checks.find((c) => c.name === 'ims-configurations') as
    | { status: string; message: string }
    | undefined;
  return check?.status === 'green' ? check.message : `${check?.status}: ${check?.message}`;
}

describe("the seeds' scenario: legacy key storage, restarts, migration, vanished keys", () => {
  let ims: Server | undefined;
  afterAll(async () => {
    await ims?.stop();
  });

  it('keeps the IMS client_secret decrypting through restarts and keys migrate --to file', async () => {
    // The IMS the configuration belongs to, and its service credentials.
    const imsData = join(root, 'ims');
    ims = await startServer(['serve', 'ims', '--port', '0', '--data', imsData], env, 'ims');
    const created = await runCli([
      'credentials',
      'create',
      '--environment',
      'p1-e1',
      '--data',
      imsData,
    ]);
    expect(created.code, created.stderr).toBe(0);
    const { integration } = JSON.parse(created.stdout) as {
      integration: {
        imsEndpoint: string;
        org: string;
        id: string;
        privateKey: string;
        metascopes: string;
        technicalAccount: { clientId: string; clientSecret: string };
      };
    };
    // An instance initialized the legacy way: keys in the repository, storage JCR.
    let server = await start();
    expect(readFileSync(join(data, 'crypto', 'storage'), 'utf8')).toBe('JCR');
    expect(existsSync(join(data, 'crypto', 'master'))).toBe(false);
    const saved = await fetch(`${server.url}/system/console/configs/ims/default`, {
      method: 'POST',
      headers: { authorization: ADMIN },
      body: new URLSearchParams({
        imsEndpoint: integration.imsEndpoint,
        org: integration.org,
        technicalAccountId: integration.id,
        clientId: integration.technicalAccount.clientId,
        clientSecret: integration.technicalAccount.clientSecret,
        privateKey: integration.privateKey,
        metascopes: integration.metascopes,
      }),
    });
    expect(saved.status).toBe(201);
    const sealed = await sealedSecret(server);
    expect(sealed).toMatch(/^\{lk1\./);

    // Restarts: the keys never change, the secret keeps opening, the IMS keeps accepting it
    // (health's check obtains a token with it), health stays green.
    for (let i = 0; i < 3; i++) {
      expect(await tokenObtained(server)).toMatch(/^ims\/default: token obtained from /);
      expect((await health(server)).body.status).toBe('green');
      await server.stop();
      expect(await opens(sealed)).toBe(integration.technicalAccount.clientSecret);
      server = await start();
      expect(await sealedSecret(server)).toBe(sealed);
    }
    expect((await health(server)).body.status).toBe('green');
    await server.stop();

    // The repair, done by latchkey: move the keys to files.
    const migrate = await runCli(['keys', 'migrate', '--to', 'file', '--data', data]);
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(readFileSync(join(data, 'crypto', 'storage'), 'utf8')).toBe('Bundle');
    expect(existsSync(join(data, 'crypto', 'master'))).toBe(true);

    server = await start();
    const h = await health(server);
    expect(h.code).toBe(200);
    expect(h.body.status).toBe('green');
    expect(await tokenObtained(server)).toMatch(/^ims\/default: token obtained from /);
    const configs = await fetch(`${server.url}/system/console/configs.json`, {
      headers: { authorization: ADMIN },
    });
    expect(
      ((await configs.json()) as { configurations: { decrypts: boolean }[] }).configurations,
    ).toEqual([expect.objectContaining({ kind: 'ims', name: 'default', decrypts: true })]);
    await server.stop();
    expect(await opens(sealed)).toBe(integration.technicalAccount.clientSecret);

    // The key files deleted: no new keys, a precise message instead.
    const fingerprint = await runCli(['keys', 'fingerprint', '--data', data]);
    const masterId = /^master (\w{16}) primary/m.exec(fingerprint.stdout)?.[1];
    rmSync(join(data, 'crypto', 'master'));
    const refused = await runCli(['serve', 'author', '--port', '0', '--data', data], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `master key ${masterId} is missing: looked in ${join(data, 'crypto', 'master')}`,
    );
    expect(refused.stderr).toContain('no new key was generated');
    expect(existsSync(join(data, 'crypto', 'master'))).toBe(false);
    // Six server starts (the IMS, the instance five times) and a dozen commands, one after another.
  }, 120_000);
});
