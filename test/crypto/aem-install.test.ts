import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseBundleInfo } from '../../src/crypto/aem-legacy/find-bundles.js';
import { inspectAem } from '../../src/crypto/aem-legacy/inspect.js';
import { aemMigrateKeys } from '../../src/crypto/aem-legacy/migrate-keys.js';
import { CryptoError } from '../../src/crypto/errors.js';
import { buildCrxQuickstart } from '../helpers/aem-tree.js';
import { runCli } from '../helpers/process.js';

const root = mkdtempSync(join(tmpdir(), 'lk-aem-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `t${n++}`);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('aem inspect', () => {
  it('finds both crypto bundles by bundle.info, fingerprints the keys, says Bundle is in effect', () => {
    const master = randomBytes(16);
    const hmac = randomBytes(32);
    const t = buildCrxQuickstart(fresh(), { storage: 'Bundle', master, hmac });
    const r = inspectAem(t.crx);
    expect(r.supportBundle?.id).toBe(236);
    expect(r.fileBundle?.id).toBe(237);
    expect(r.storage).toMatchObject({ present: true, value: 'Bundle', trailingNewline: false });
    expect(r.keyFiles).toEqual([
      { name: 'master', path: join(t.fileData, 'master'), bytes: 16, sha256: sha(master) },
      { name: 'hmac', path: join(t.fileData, 'hmac'), bytes: 32, sha256: sha(hmac) },
    ]);
    expect(r.inEffect).toBe('Bundle');
    expect(r.problems).toEqual([]);
  });

  it('reports the trailing newline AEM cannot read, JCR storage, and missing key files', () => {
    const newline = inspectAem(buildCrxQuickstart(fresh(), { storage: 'Bundle\n' }).crx);
    expect(newline.storage.trailingNewline).toBe(true);
    expect(newline.inEffect).toBe('unknown');
    expect(newline.problems.join('\n')).toContain('ends with a newline');
    const jcr = inspectAem(buildCrxQuickstart(fresh(), { storage: 'JCR' }).crx);
    expect(jcr.inEffect).toBe('JCR');
    expect(jcr.problems.join('\n')).toContain('/etc/key');
    const noKeys = inspectAem(buildCrxQuickstart(fresh(), { storage: 'Bundle' }).crx);
    expect(noKeys.problems.join('\n')).toContain('AEM will generate a new master key');
  });

  // Found by the attack campaign (test/attack/crx-quickstart.test.ts): key and storage files were
  // read whole, whatever they were. A key file linked to /dev/zero read until memory ran out; a
  // storage file that is a FIFO blocked the process for ever.
  it('reports device, FIFO and huge files instead of reading them', () => {
    const t = buildCrxQuickstart(fresh(), { storage: 'Bundle' });
    symlinkSync('/dev/zero', join(t.fileData, 'master'));
    writeFileSync(join(t.fileData, 'hmac'), Buffer.alloc(1 << 20));
    const fifo = join(root, `fifo${n++}`);
    execFileSync('mkfifo', [fifo]);
    const storage = join(t.supportData, 'storage');
    rmSync(storage);
    symlinkSync(fifo, storage);
    const r = inspectAem(t.crx);
    expect(r.keyFiles).toEqual([]);
    expect(r.problems.join('\n')).toContain('master as a key file (not_a_regular_file)');
    expect(r.problems.join('\n')).toContain('hmac as a key file (file_too_large)');
    expect(r.problems.join('\n')).toContain(`cannot read ${storage} (not_a_regular_file)`);
    expect(() => aemMigrateKeys(t.crx, { master: '/dev/zero', hmac: fifo })).toThrow(
      /cannot read the master file \/dev\/zero: not_a_regular_file/,
    );
  });

  // Found by the attack campaign: a key file that is a folder made migrate-keys throw EISDIR
  // instead of a CryptoError naming the path.
  it('migrate-keys names a key file it cannot write, and leaves storage as it was', () => {
    const t = buildCrxQuickstart(fresh(), { storage: 'JCR' });
    mkdirSync(join(t.fileData, 'master'), { recursive: true });
    writeFileSync(join(root, 'm3'), randomBytes(16));
    writeFileSync(join(root, 'h3'), randomBytes(32));
    let err: unknown;
    try {
      aemMigrateKeys(t.crx, { master: join(root, 'm3'), hmac: join(root, 'h3') });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CryptoError);
    expect((err as CryptoError).code).toBe('migration_failed');
    expect((err as CryptoError).message).toContain(join(t.fileData, 'master'));
    expect(readFileSync(join(t.supportData, 'storage'), 'utf8')).toBe('JCR');
  });

  it('says clearly when the folder is not an AEM install', () => {
    expect(() => inspectAem(join(root, 'nothing'))).toThrow(/is not a crx-quickstart folder/);
  });

  it('parses bundle.info tolerantly', () => {
    expect(parseBundleInfo('# comment\n\n12\r\nlaunchpad:x.jar\r\n32\n')).toEqual({
      id: 12,
      location: 'launchpad:x.jar',
    });
    expect(parseBundleInfo('garbage')).toBeUndefined();
  });
});

describe('aem migrate-keys', () => {
  it("performs the seeds' steps: keys into the file bundle, verified, storage=Bundle without newline", () => {
    const t = buildCrxQuickstart(fresh(), { storage: 'JCR' });
    const master = randomBytes(16);
    const hmac = randomBytes(32);
    writeFileSync(join(root, 'dl-master'), master);
    writeFileSync(join(root, 'dl-hmac'), hmac);
    const r = aemMigrateKeys(t.crx, {
      master: join(root, 'dl-master'),
      hmac: join(root, 'dl-hmac'),
    });
    expect(readFileSync(join(t.supportData, 'storage'), 'utf8')).toBe('Bundle');
    expect(readFileSync(join(t.fileData, 'master')).equals(master)).toBe(true);
    expect(readFileSync(join(t.fileData, 'hmac')).equals(hmac)).toBe(true);
    expect(r.copied.map((c) => c.sha256)).toEqual([sha(master), sha(hmac)]);
    const after = inspectAem(t.crx);
    expect(after.inEffect).toBe('Bundle');
    expect(after.problems).toEqual([]);
    // Idempotent.
    aemMigrateKeys(t.crx, { master: join(root, 'dl-master'), hmac: join(root, 'dl-hmac') });
    expect(readdirSync(t.fileData).sort()).toEqual(['hmac', 'master']);
  });

  it('keeps a backup of different key files it replaces, and refuses unreadable sources', () => {
    const old = randomBytes(16);
    const t = buildCrxQuickstart(fresh(), {
      storage: 'Bundle\n',
      master: old,
      hmac: randomBytes(32),
    });
    writeFileSync(join(root, 'm2'), randomBytes(16));
    writeFileSync(join(root, 'h2'), randomBytes(32));
    const r = aemMigrateKeys(t.crx, { master: join(root, 'm2'), hmac: join(root, 'h2') });
    const backup = r.copied[0]?.backup;
    expect(backup && existsSync(backup) && readFileSync(backup).equals(old)).toBe(true);
    expect(() =>
      aemMigrateKeys(t.crx, { master: join(root, 'none'), hmac: join(root, 'h2') }),
    ).toThrow(/cannot read the master file/);
  });

  it('works from the command line', async () => {
    const t = buildCrxQuickstart(fresh(), { storage: 'JCR' });
    writeFileSync(join(root, 'c-master'), randomBytes(16));
    writeFileSync(join(root, 'c-hmac'), randomBytes(32));
    const before = await runCli(['aem', 'inspect', t.crx]);
    expect(before.code).toBe(1);
    expect(before.stdout).toContain('in effect: JCR');
    const run = await runCli([
      'aem',
      'migrate-keys',
      t.crx,
      '--master',
      join(root, 'c-master'),
      '--hmac',
      join(root, 'c-hmac'),
    ]);
    expect(run.code, run.stderr).toBe(0);
    const after = await runCli(['aem', 'inspect', t.crx, '--json']);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout).inEffect).toBe('Bundle');
  });
});
