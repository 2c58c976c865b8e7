import { audit } from '../audit/record.js';
import { CryptoError } from './errors.js';
import type { KeyKind } from './key-id.js';
import { generateKeyVersion } from './keyring.js';
import { type KeyLocation, loadKeyring, readStoredKeys } from './load-keyring.js';
import { registerKeys } from './registry.js';
import { writeFileKeys } from './storage/file.js';
import { writeRepositoryKeys } from './storage/repository.js';

/**
 * Makes a new primary key of `kind`; the previous ones stay, to open values and check
 * signatures made with them (`keys rewrap` then moves sealed values to the new master key).
 * Written where the `storage` file points, atomically.
 */
export async function rotateKey(
  loc: KeyLocation,
  kind: KeyKind,
): Promise<{ previous: string; current: string }> {
  const before = await loadKeyring(loc, { initialize: false }); // refuses an incomplete set
  const { mode, keys } = await readStoredKeys(loc);
  const fresh = generateKeyVersion(kind);
  const next = { ...keys, [kind]: [fresh.material, ...keys[kind]] };
  if (mode === 'JCR') await loc.store.transaction((tx) => writeRepositoryKeys(tx, next));
  else writeFileKeys(loc.cryptoDir, next);
  await registerKeys(loc.store, { [kind]: [fresh.id] });
  const after = await loadKeyring(loc, { initialize: false });
  if (after[kind].primary.id !== fresh.id) {
    throw new CryptoError('rotation_failed', `the new ${kind} key did not become primary`, 500);
  }
  await audit({
    type: 'keys.rotated',
    target: fresh.id,
    details: { kind, previous: before[kind].primary.id, current: fresh.id },
  });
  return { previous: before[kind].primary.id, current: fresh.id };
}
