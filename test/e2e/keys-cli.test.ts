import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cryptoDirOf, loadKeyring } from '../../src/crypto/load-keyring.js';
import { stringProperty, toStored } from '../../src/repository/properties.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { runCli } from '../helpers/process.js';

const root = mkdtempSync(join(tmpdir(), 'lk-keys-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function initialized(name: string, values: Record<string, string> = {}) {
  const data = join(root, name);
  const store = new SqliteStore(join(data, 'author.sqlite'));
  try {
    await loadKeyring({ cryptoDir: cryptoDirOf(data), store }, { initialize: 'file' });
    await store.putNode({ path: '/', primaryType: 'rep:root', properties: {} });
    const properties = Object.fromEntries(
      Object.entries(values).map(([k, v]) => [k, toStored(stringProperty(v))]),
    );
    await store.putNode({ path: '/conf', primaryType: 'nt:unstructured', properties });
  } finally {
    await store.close();
  }
  return data;
}

describe('keys commands', () => {
  it('protect, verify, export with a passphrase file, import elsewhere, unprotect there', async () => {
    const a = await initialized('a');
    const sealed = (await runCli(['protect', 'moved secret', '--data', a])).stdout.trim();
    const pass = join(root, 'pass.txt');
    writeFileSync(pass, 'a long passphrase\n');
    const bundle = join(root, 'keys.bundle');
    const exp = await runCli([
      'keys',
      'export',
      '--out',
      bundle,
      '--passphrase-file',
      pass,
      '--data',
      a,
    ]);
    expect(exp.code, exp.stderr).toBe(0);
    expect(exp.stdout).toContain('sealed with the passphrase');

    const b = join(root, 'b');
    const noPass = await runCli(['keys', 'import', bundle, '--data', b]);
    expect(noPass.code).toBe(1);
    expect(noPass.stderr).toContain('this bundle is sealed');
    const imp = await runCli(['keys', 'import', bundle, '--data', b], {
      LATCHKEY_KEYS_PASSPHRASE: 'a long passphrase',
    });
    expect(imp.code, imp.stderr).toBe(0);
    expect((await runCli(['unprotect', sealed, '--data', b])).stdout.trim()).toBe('moved secret');
  });

  it('keys verify lists values that do not open and exits 1', async () => {
    const good = await initialized('good');
    const sealed = (await runCli(['protect', 'x', '--data', good])).stdout.trim();
    const data = await initialized('verify', { fine: 'plain', foreign: sealed });
    const res = await runCli(['keys', 'verify', '--data', data]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('FAIL /conf foreign');
    expect(res.stdout).toContain('0 of 1 protected values open');
    expect((await runCli(['keys', 'verify', '--data', good])).code).toBe(0);
  });

  it('keys rewrap converts AEM legacy values once the AEM master key is imported', async () => {
    const aem = randomBytes(16);
    const iv = randomBytes(16);
    const c = createCipheriv('aes-128-cbc', aem, iv);
    const legacy = `{${Buffer.concat([iv, c.update('from aem', 'utf8'), c.final()]).toString('hex')}}`;
    const data = await initialized('legacy', { clientSecret: legacy });
    expect((await runCli(['keys', 'verify', '--data', data])).code).toBe(1);
    writeFileSync(join(root, 'aem-master'), aem);
    expect(
      (await runCli(['keys', 'import-aem', '--master', join(root, 'aem-master'), '--data', data]))
        .code,
    ).toBe(0);
    const rewrap = await runCli(['keys', 'rewrap', '--data', data]);
    expect(rewrap.stdout).toContain('1 re-sealed, 0 already current, 0 failed');
    const store = new SqliteStore(join(data, 'author.sqlite'));
    let value: string;
    try {
      const node = await store.getNode('/conf');
      if (!node) throw new Error('node /conf vanished');
      value = (node.properties['clientSecret'] as { values: string[] }).values[0]!;
    } finally {
      await store.close();
    }
    expect(value).toMatch(/^\{lk1\./);
    expect((await runCli(['unprotect', value, '--data', data])).stdout.trim()).toBe('from aem');
  });

  it('refuses bad arguments with a clear message', async () => {
    const data = await initialized('args');
    const rotate = await runCli(['keys', 'rotate', 'everything', '--data', data]);
    expect(rotate.code).toBe(2);
    expect(rotate.stderr).toContain('rotate takes master or hmac');
    const migrate = await runCli(['keys', 'migrate', '--to', 'cloud', '--data', data]);
    expect(migrate.stderr).toContain('--to must be file or repository');
    const unprotect = await runCli(['unprotect', 'not-a-value', '--data', data]);
    expect(unprotect.code).toBe(1);
    expect(unprotect.stderr).toContain('not a protected value');
    const missing = await runCli(['keys', 'import', join(root, 'nope'), '--data', data]);
    expect(missing.stderr).toContain('cannot read');
  });
});
