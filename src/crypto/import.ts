import { mkdirSync } from 'node:fs';
import { audit } from '../audit/record.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { decodeBundle } from './bundle.js';
import { CryptoError } from './errors.js';
import { KEY_KINDS, type KeyKind, keyId } from './key-id.js';
import { aemMasterFile, buildKeyring, type KeyLocation, readStoredKeys } from './load-keyring.js';
import { readRegistry, registerKeys } from './registry.js';
import { writeFileKeys } from './storage/file.js';
import { writeStorageMode } from './storage/mode.js';
import { writeRepositoryKeys } from './storage/repository.js';
import type { StoredKeys } from './storage/types.js';

/**
 * Installs a key bundle: its primaries become the primaries, written where `storage` points
 * (key files when there is none yet). If the store depends on a key the bundle lacks (data
 * sealed here would be orphaned), it refuses unless `keepExisting`, which keeps the current keys
 * as older versions.
 */
export async function importKeys(
  loc: KeyLocation,
  text: string,
  options: {
    passphrase?: string | undefined;
    keepExisting?: boolean;
    /** For the audit log: a bundle file or upload (default), or `push` (latchkey keys push). */
    source?: 'bundle' | 'push';
  } = {},
): Promise<{ master: string; hmac: string; kept: number }> {
  const bundle = await decodeBundle(text, options.passphrase);
  buildKeyring(bundle.keys, bundle.aemMaster); // validates every key's length
  if (bundle.keys.master.length === 0 || bundle.keys.hmac.length === 0) {
    throw new CryptoError('invalid_bundle', 'the bundle must hold a master and an hmac key');
  }
  const { mode, keys: current } = await readStoredKeys(loc);
  const registry = await readRegistry(loc.store);
  const inBundle = (kind: KeyKind) => new Set(bundle.keys[kind].map((k) => keyId(k)));
  const orphaned = KEY_KINDS.flatMap((kind) =>
    registry[kind].filter((id) => !inBundle(kind).has(id)).map((id) => `${kind} ${id}`),
  );
  const missingNow = orphaned.filter((o) => {
    const [kind, id] = o.split(' ') as [KeyKind, string];
    return !current[kind].some((k) => keyId(k) === id);
  });
  if (orphaned.length > 0 && !options.keepExisting) {
    throw new CryptoError(
      'would_orphan',
      `importing would orphan data sealed or signed with ${orphaned.join(', ')}; add --keep-existing to keep the current keys as older versions`,
      409,
    );
  }
  if (missingNow.length > 0) {
    throw new CryptoError(
      'keys_missing',
      `cannot keep ${missingNow.join(', ')}: not present here either`,
    );
  }
  const merged: Record<KeyKind, Buffer[]> = { master: [], hmac: [] };
  for (const kind of KEY_KINDS) {
    for (const k of [...bundle.keys[kind], ...(options.keepExisting ? current[kind] : [])]) {
      if (!merged[kind].some((m) => m.equals(k))) merged[kind].push(k);
    }
  }
  const keys: StoredKeys = merged;
  mkdirSync(loc.cryptoDir, { recursive: true, mode: 0o700 });
  if (mode === 'JCR') await loc.store.transaction((tx) => writeRepositoryKeys(tx, keys));
  else {
    writeFileKeys(loc.cryptoDir, keys);
    if (mode === undefined) writeStorageMode(loc.cryptoDir, 'Bundle');
  }
  if (bundle.aemMaster) writeFileAtomic(aemMasterFile(loc.cryptoDir), bundle.aemMaster, 0o600);
  await registerKeys(loc.store, { master: [keyId(keys.master[0]!)], hmac: [keyId(keys.hmac[0]!)] });
  await audit({
    type: 'keys.imported',
    target: loc.cryptoDir,
    details: {
      source: options.source ?? 'bundle',
      master: keyId(keys.master[0]!),
      hmac: keyId(keys.hmac[0]!),
      keys: [...bundle.keys.master, ...bundle.keys.hmac].map((k) => keyId(k)),
      keptExisting: options.keepExisting === true,
      sealed: options.passphrase !== undefined,
    },
  });
  return {
    master: keyId(keys.master[0]!),
    hmac: keyId(keys.hmac[0]!),
    kept: options.keepExisting ? current.master.length + current.hmac.length : 0,
  };
}
