import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { audit } from '../audit/record.js';
import { describeStores, storesInFolder } from '../data-folder/stores-in-folder.js';
import { CryptoError } from './errors.js';
import { fingerprint, KEY_KINDS, type KeyKind } from './key-id.js';
import type { KeyLocation } from './load-keyring.js';
import { readRegistry } from './registry.js';
import { readFileKeys, removeFileKeys, writeFileKeys } from './storage/file.js';
import { readStorageMode, type StorageMode, writeStorageMode } from './storage/mode.js';
import {
  readRepositoryKeys,
  removeRepositoryKeys,
  writeRepositoryKeys,
} from './storage/repository.js';
import { hasAnyKey, type StoredKeys } from './storage/types.js';

export type MigrationStep = 'copied' | 'verified' | 'switched' | 'removed';

export interface MigrationReport {
  readonly from: StorageMode | undefined;
  readonly to: StorageMode;
  /** Whether anything had to be done (false: already migrated). */
  readonly changed: boolean;
  readonly fingerprints: Readonly<Record<KeyKind, readonly string[]>>;
}

/** Every version of both stores, the one in effect first (its primary stays primary). */
function merge(first: StoredKeys, second: StoredKeys): StoredKeys {
  const out: Record<KeyKind, Buffer[]> = { master: [], hmac: [] };
  for (const kind of KEY_KINDS) {
    for (const k of [...first[kind], ...second[kind]]) {
      if (!out[kind].some((o) => o.equals(k))) out[kind].push(k);
    }
  }
  return out;
}

/**
 * The stores that one set of key files serves, for messages (`an author store (author.sqlite) and
 * an IMS store (ims.sqlite)`), when there are several (the data folder of latchkey start); else
 * `undefined`. Such key files cannot move into one store's repository.
 */
export function keyFilesSharedBy(cryptoDir: string): string | undefined {
  const roles = storesInFolder(dirname(cryptoDir));
  return roles.length > 1 ? describeStores(roles) : undefined;
}

/**
 * Moves the keys to file storage (`Bundle`) or repository storage (`JCR`): the seeds' manual
 * repair, made safe. Steps: copy every key to the target (atomically, fsynced), read the target
 * back and compare SHA-256 fingerprints, switch the `storage` file, and only then remove the
 * source. At every instant one storage holds every key and `storage` points at a complete one,
 * so a crash at any step loses nothing, and running it again completes the move. Running it when
 * already done changes nothing.
 *
 * `onStep` is called after each step (progress output; tests kill the process there).
 */
export async function migrateKeys(
  loc: KeyLocation,
  to: 'file' | 'repository',
  onStep: (step: MigrationStep) => void = () => {},
): Promise<MigrationReport> {
  const target: StorageMode = to === 'file' ? 'Bundle' : 'JCR';
  const from = readStorageMode(loc.cryptoDir);
  // The data folder of latchkey start holds the author's and the IMS's stores, and one set of
  // key files serves both: moved into one store's /etc/key, they would be gone for the other,
  // which then cannot start (and nothing tells it where they went).
  const sharing = keyFilesSharedBy(loc.cryptoDir);
  if (target === 'JCR' && from !== 'JCR' && sharing) {
    throw new CryptoError(
      'shared_keys',
      `the key files in ${loc.cryptoDir} serve ${sharing}: moved into one store's repository, they would be gone for the other. Keep them in key files, or give each role its own data folder (latchkey serve … --data)`,
      409,
    );
  }
  const files = readFileKeys(loc.cryptoDir);
  const repo = await readRepositoryKeys(loc.store);
  const source = target === 'Bundle' ? repo : files;
  const inEffect = from === 'JCR' ? repo : files;
  const merged = merge(inEffect, merge(files, repo));
  const prints = {
    master: merged.master.map((k) => fingerprint(k)),
    hmac: merged.hmac.map((k) => fingerprint(k)),
  };

  if (!hasAnyKey(merged)) {
    throw new CryptoError(
      'keys_missing',
      `no keys to migrate: neither ${loc.cryptoDir} nor /etc/key holds any`,
    );
  }
  // Refuse to move an incomplete set: the registry says what the stored data depends on.
  const registry = await readRegistry(loc.store);
  for (const kind of KEY_KINDS) {
    const lost = registry[kind].filter((id) => !prints[kind].some((p) => p.startsWith(id)));
    if (merged[kind].length === 0 || lost.length > 0) {
      throw new CryptoError(
        'keys_missing',
        `cannot migrate: ${kind} key ${lost.join(', ') || '(any)'} is in neither storage; restore it first (latchkey keys import BUNDLE)`,
      );
    }
  }
  if (from === target && !hasAnyKey(source)) {
    return { from, to: target, changed: false, fingerprints: prints };
  }

  // 1. Copy.
  mkdirSync(loc.cryptoDir, { recursive: true, mode: 0o700 });
  if (target === 'Bundle') writeFileKeys(loc.cryptoDir, merged);
  else await loc.store.transaction((tx) => writeRepositoryKeys(tx, merged));
  onStep('copied');

  // 2. Verify: read the target back, byte for byte by SHA-256.
  const written =
    target === 'Bundle' ? readFileKeys(loc.cryptoDir) : await readRepositoryKeys(loc.store);
  for (const kind of KEY_KINDS) {
    const got = written[kind].map((k) => fingerprint(k));
    if (got[0] !== prints[kind][0] || prints[kind].some((p) => !got.includes(p))) {
      throw new CryptoError(
        'migration_failed',
        `the ${kind} key read back from the target differs from the source; nothing was removed`,
        500,
      );
    }
  }
  onStep('verified');

  // 3. Switch.
  writeStorageMode(loc.cryptoDir, target);
  onStep('switched');

  // 4. Remove the source, now that the target is verified and in effect.
  if (target === 'Bundle') await loc.store.transaction((tx) => removeRepositoryKeys(tx));
  else removeFileKeys(loc.cryptoDir);
  onStep('removed');

  await audit({
    type: 'keys.migrated',
    target: loc.cryptoDir,
    details: {
      from: from ?? 'none',
      to: target,
      master: prints.master.map((p) => p.slice(0, 16)),
      hmac: prints.hmac.map((p) => p.slice(0, 16)),
    },
  });
  return { from, to: target, changed: true, fingerprints: prints };
}
