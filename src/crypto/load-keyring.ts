import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/types.js';
import { CryptoError } from './errors.js';
import { KEY_KINDS, type KeyKind, keyId } from './key-id.js';
import {
  AEM_MASTER_LENGTH,
  generateKeyVersion,
  KEY_LENGTH,
  type Keyring,
  makeKeySet,
  makeKeyVersion,
} from './keyring.js';
import { readRegistry, registerKeys } from './registry.js';
import { keyFile, readFileKeys, removeFileKeys, writeFileKeys } from './storage/file.js';
import { readStorageMode, type StorageMode, writeStorageMode } from './storage/mode.js';
import { KEY_NODE, readRepositoryKeys, writeRepositoryKeys } from './storage/repository.js';
import { hasAnyKey, type StoredKeys } from './storage/types.js';

/** Where a data folder's keys live: its crypto folder and its store. */
export interface KeyLocation {
  readonly cryptoDir: string;
  readonly store: Store;
}

export function cryptoDirOf(dataDir: string): string {
  return join(dataDir, 'crypto');
}

export function aemMasterFile(cryptoDir: string): string {
  return join(cryptoDir, 'aem-master');
}

/** Reads the storage mode and the keys stored where it points. */
export async function readStoredKeys(
  loc: KeyLocation,
): Promise<{ mode: StorageMode | undefined; keys: StoredKeys }> {
  const mode = readStorageMode(loc.cryptoDir);
  if (mode === 'JCR') return { mode, keys: await readRepositoryKeys(loc.store) };
  return { mode, keys: readFileKeys(loc.cryptoDir) };
}

function describeWhere(loc: KeyLocation, mode: StorageMode | undefined, kind: KeyKind): string {
  return mode === 'JCR'
    ? `property ${kind} of repository node ${KEY_NODE} (storage JCR)`
    : `${keyFile(loc.cryptoDir, kind)} (storage ${mode ?? 'Bundle, no storage file'})`;
}

async function missing(
  loc: KeyLocation,
  mode: StorageMode | undefined,
  kind: KeyKind,
  ids: readonly string[],
): Promise<CryptoError> {
  // The seeds' failure: keys in one storage while `storage` points at the other. Say so.
  const other = mode === 'JCR' ? readFileKeys(loc.cryptoDir) : await readRepositoryKeys(loc.store);
  const found = other[kind].some((k) => ids.includes(keyId(k)));
  const hint = found
    ? `It is in the ${mode === 'JCR' ? 'key files' : 'repository (/etc/key)'}: run latchkey keys migrate --to file.`
    : `Restore it with latchkey keys import BUNDLE (a keys export from an instance that has it), or put the original key file back (its SHA-256 starts with the key id).`;
  return new CryptoError(
    'keys_missing',
    `${kind} key ${ids.join(', ')} is missing: looked in ${describeWhere(loc, mode, kind)}. ` +
      `Data sealed or signed with it exists, so no new key was generated. ${hint}`,
    503,
  );
}

export interface LoadOptions {
  /**
   * Where to put new keys when nothing exists yet (an empty data folder and store). `false`:
   * never generate (CLI commands other than initialization).
   */
  readonly initialize?: 'file' | 'repository' | false;
}

/**
 * Loads the keyring of a data folder. Keys are generated only when the folder and the store are
 * both empty of keys and nothing was ever sealed (the store's key registry is empty). When keys
 * the store depends on cannot be found, it throws `keys_missing` naming each missing key id,
 * where it looked and how to restore it, and changes nothing.
 */
export async function loadKeyring(loc: KeyLocation, options: LoadOptions = {}): Promise<Keyring> {
  let { mode, keys } = await readStoredKeys(loc);
  // A fresh data folder joining a store that keeps its keys in the repository (a cluster on a
  // shared store): use those.
  if (mode === undefined && !hasAnyKey(keys) && options.initialize === 'repository') {
    keys = await readRepositoryKeys(loc.store);
    if (hasAnyKey(keys)) {
      mode = 'JCR';
      writeStorageMode(loc.cryptoDir, mode);
    }
  }
  let registry = await readRegistry(loc.store);
  // New keys only for a store that never depended on any: otherwise they are missing, and a
  // start says so and changes nothing (not even the storage file).
  const neverSealed = KEY_KINDS.every((k) => registry[k].length === 0);
  if (!hasAnyKey(keys) && options.initialize && neverSealed) {
    const created = await initializeKeys(loc, options.initialize);
    ({ mode, keys } = created ?? (await readStoredKeys(loc)));
    registry = await readRegistry(loc.store);
  }
  if (!hasAnyKey(keys)) {
    const depended = KEY_KINDS.find((k) => registry[k].length > 0);
    if (depended) throw await missing(loc, mode, depended, registry[depended]);
    throw new CryptoError(
      'keys_missing',
      `no keys in ${loc.cryptoDir}: start the instance once, or import keys`,
      503,
    );
  }

  for (const kind of KEY_KINDS) checkLengths(kind, keys[kind], mode);
  for (const kind of KEY_KINDS) {
    const have = new Set(keys[kind].map((k) => keyId(k)));
    const lost = registry[kind].filter((id) => !have.has(id));
    if (keys[kind].length === 0 || lost.length > 0) {
      throw await missing(loc, mode, kind, lost.length ? lost : ['(any)']);
    }
  }
  if (mode === undefined) writeStorageMode(loc.cryptoDir, 'Bundle');
  const keyring = buildKeyring(keys, readAemMaster(loc.cryptoDir));
  // Primaries may seal and sign from now on; older versions were registered when they were
  // primaries (and a rewrap may since have released old master keys).
  await registerKeys(loc.store, {
    master: [keyring.master.primary.id],
    hmac: [keyring.hmac.primary.id],
  });
  return keyring;
}

/**
 * Creates the first keys of an empty data folder and store. Exactly one process wins when
 * several start at once on one store: the registry is created with insert-if-absent. A loser
 * keeps nothing of its own; it returns `undefined` and its caller reads what is stored.
 */
async function initializeKeys(
  loc: KeyLocation,
  where: 'file' | 'repository',
): Promise<{ mode: StorageMode; keys: StoredKeys } | undefined> {
  const keys: StoredKeys = {
    master: [generateKeyVersion('master').material],
    hmac: [generateKeyVersion('hmac').material],
  };
  const registry = { master: [keyId(keys.master[0]!)], hmac: [keyId(keys.hmac[0]!)] };
  mkdirSync(loc.cryptoDir, { recursive: true, mode: 0o700 });
  if (where === 'repository') {
    const won = await loc.store.transaction(async (tx) => {
      if (!(await tx.insertRecord('crypto', 'registry', registry))) return false;
      await writeRepositoryKeys(tx, keys);
      return true;
    });
    writeStorageMode(loc.cryptoDir, 'JCR');
    return won ? { mode: 'JCR', keys } : undefined;
  }
  // Files first: a crash before the registry exists leaves keys that the next start adopts. The
  // storage file is written once these keys are the store's, so a loser leaves it as it was.
  writeFileKeys(loc.cryptoDir, keys);
  if (await loc.store.insertRecord('crypto', 'registry', registry)) {
    writeStorageMode(loc.cryptoDir, 'Bundle');
    return { mode: 'Bundle', keys };
  }
  // Another data folder initialized this store first: nothing was sealed with ours.
  removeFileKeys(loc.cryptoDir);
  return undefined;
}

function checkLengths(kind: KeyKind, versions: readonly Buffer[], mode: StorageMode | undefined) {
  for (const k of versions) {
    if (k.length === KEY_LENGTH[kind]) continue;
    const aem = kind === 'master' && k.length === AEM_MASTER_LENGTH;
    throw new CryptoError(
      'invalid_key',
      `a ${kind} key in ${mode === 'JCR' ? '/etc/key' : 'the key files'} has ${k.length} bytes, not ${KEY_LENGTH[kind]}` +
        (aem
          ? ': that is an AEM master key; import it with latchkey keys import-aem --master FILE'
          : ''),
    );
  }
}

export function buildKeyring(keys: StoredKeys, aemMaster: Buffer | undefined): Keyring {
  const set = (kind: KeyKind) => {
    const [primary, ...older] = keys[kind].map((m) => makeKeyVersion(kind, m));
    return makeKeySet(primary!, older);
  };
  return { master: set('master'), hmac: set('hmac'), aemMaster };
}

export function readAemMaster(cryptoDir: string): Buffer | undefined {
  try {
    const bytes = readFileSync(aemMasterFile(cryptoDir));
    if (bytes.length !== AEM_MASTER_LENGTH) {
      throw new CryptoError(
        'invalid_key',
        `${aemMasterFile(cryptoDir)} must hold 16 bytes, it has ${bytes.length}`,
      );
    }
    return bytes;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
