import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../fs/atomic-write.js';
import { MAX_KEY_FILE_BYTES, readSmallFile } from '../../fs/read-small-file.js';
import { CryptoError } from '../errors.js';
import { fingerprint } from '../key-id.js';
import { FILE_BUNDLE, findCryptoBundles, SUPPORT_BUNDLE } from './find-bundles.js';

export interface AemMigrationReport {
  readonly copied: readonly {
    name: string;
    to: string;
    sha256: string;
    backup: string | undefined;
  }[];
  readonly storage: string;
}

function readSource(file: string, name: string): Buffer {
  try {
    const bytes = readSmallFile(file, MAX_KEY_FILE_BYTES);
    if (bytes.length === 0)
      throw new CryptoError('invalid_key', `the ${name} file ${file} is empty`);
    return bytes;
  } catch (err) {
    if (err instanceof CryptoError) throw err;
    throw new CryptoError(
      'invalid_key',
      `cannot read the ${name} file ${file}: ${(err as NodeJS.ErrnoException).code}`,
    );
  }
}

function readOptional(file: string): Buffer | undefined {
  try {
    return readSmallFile(file, MAX_KEY_FILE_BYTES);
  } catch {
    return undefined;
  }
}

/**
 * The seeds' repair, for an AEM install that is stopped: copy `master` and `hmac` (as downloaded
 * from /etc/key) into the data folder of the com.adobe.granite.crypto.file bundle, verify them by
 * SHA-256, then write `storage` = `Bundle` (no newline) into the data folder of the
 * com.adobe.granite.crypto bundle. Files it replaces are kept as `<name>.bak-<time>`. Running it
 * again with the same keys changes nothing. (Removing master and hmac from /etc/key is done in
 * AEM once it runs on the files, as the seeds say.)
 */
export function aemMigrateKeys(
  crxQuickstart: string,
  sources: { master: string; hmac: string },
): AemMigrationReport {
  const { support, file } = findCryptoBundles(crxQuickstart);
  if (!support || !file) {
    throw new CryptoError(
      'not_an_aem_install',
      `cannot find the ${!support ? SUPPORT_BUNDLE : FILE_BUNDLE} bundle under ${crxQuickstart}/launchpad/felix`,
    );
  }
  const keys = {
    master: readSource(sources.master, 'master'),
    hmac: readSource(sources.hmac, 'hmac'),
  };
  // Whatever the file system says (a key file that is a folder, a read-only data folder…), the
  // answer is a CryptoError naming the path; storage is written last and atomically, so it is
  // left as it was.
  let path = file.dataDir;
  try {
    return copyKeys(file.dataDir, support.dataDir, keys, sources, (p) => {
      path = p;
    });
  } catch (err) {
    if (err instanceof CryptoError) throw err;
    throw new CryptoError(
      'migration_failed',
      `cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}); the storage file was left as it was`,
    );
  }
}

function copyKeys(
  fileData: string,
  supportData: string,
  keys: Record<'master' | 'hmac', Buffer>,
  sources: { master: string; hmac: string },
  at: (path: string) => void,
): AemMigrationReport {
  at(fileData);
  mkdirSync(fileData, { recursive: true });
  at(supportData);
  mkdirSync(supportData, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const copied: AemMigrationReport['copied'][number][] = [];
  for (const name of ['master', 'hmac'] as const) {
    const target = join(fileData, name);
    at(target);
    const existing = readOptional(target);
    let backup: string | undefined;
    if (existing && !existing.equals(keys[name])) {
      backup = `${target}.bak-${stamp}`;
      copyFileSync(target, backup);
    }
    if (!existing?.equals(keys[name])) writeFileAtomic(target, keys[name], 0o600);
    const check = readFileSync(target);
    if (fingerprint(check) !== fingerprint(keys[name])) {
      throw new CryptoError(
        'migration_failed',
        `${target} differs from ${sources[name]} after copying; storage was not changed`,
        500,
      );
    }
    copied.push({ name, to: target, sha256: fingerprint(check), backup });
  }
  const storage = join(supportData, 'storage');
  at(storage);
  writeFileAtomic(storage, 'Bundle', 0o644);
  if (readFileSync(storage, 'utf8') !== 'Bundle') {
    throw new CryptoError('migration_failed', `${storage} does not read back as Bundle`, 500);
  }
  return { copied, storage };
}
