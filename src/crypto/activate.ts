import { audit } from '../audit/record.js';
import { CryptoError } from './errors.js';
import type { KeyKind } from './key-id.js';
import { keyId } from './key-id.js';
import { type KeyLocation, loadKeyring, readStoredKeys } from './load-keyring.js';
import { registerKeys } from './registry.js';
import { writeFileKeys } from './storage/file.js';
import { writeRepositoryKeys } from './storage/repository.js';

/**
 * Makes a version this data folder already holds the primary one of its kind: new seals (master)
 * or signatures (hmac) use it from now on, the previous primary stays as an older version and
 * keeps opening and verifying what was made with it. The second phase of a farm-wide hmac
 * rotation (the first, {@link addOlderKeys}, put the key on every instance). Refuses
 * (`unknown_key`, 409) a key that is not here: activating must never make an instance sign with
 * a key the others may lack. Activating the primary again changes nothing.
 */
export async function activateKey(
  loc: KeyLocation,
  kind: KeyKind,
  id: string,
): Promise<{ previous: string; current: string; changed: boolean }> {
  const before = await loadKeyring(loc, { initialize: false }); // refuses an incomplete set
  const previous = before[kind].primary.id;
  if (previous === id) return { previous, current: id, changed: false };
  const { mode, keys } = await readStoredKeys(loc);
  const chosen = keys[kind].find((k) => keyId(k) === id);
  if (!chosen)
    throw new CryptoError(
      'unknown_key',
      `this instance has no ${kind} key ${id}: distribute it first (latchkey farm rotate-hmac does both)`,
      409,
    );
  const next = { ...keys, [kind]: [chosen, ...keys[kind].filter((k) => k !== chosen)] };
  // Registered before it is written as primary: a crash in between leaves a registered key that
  // is present, never a primary the registry does not know.
  await registerKeys(loc.store, { [kind]: [id] });
  if (mode === 'JCR') await loc.store.transaction((tx) => writeRepositoryKeys(tx, next));
  else writeFileKeys(loc.cryptoDir, next);
  const after = await loadKeyring(loc, { initialize: false });
  if (after[kind].primary.id !== id)
    throw new CryptoError('rotation_failed', `${kind} key ${id} did not become primary`, 500);
  await audit({
    type: 'keys.rotated',
    target: id,
    details: { kind, previous, current: id, activated: true },
  });
  return { previous, current: id, changed: true };
}
