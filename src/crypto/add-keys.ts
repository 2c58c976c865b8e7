import { audit } from '../audit/record.js';
import { CryptoError } from './errors.js';
import { KEY_KINDS, type KeyKind, keyId } from './key-id.js';
import { makeKeyVersion } from './keyring.js';
import { type KeyLocation, loadKeyring, readStoredKeys } from './load-keyring.js';
import { writeFileKeys } from './storage/file.js';
import { writeRepositoryKeys } from './storage/repository.js';
import type { StoredKeys } from './storage/types.js';

/**
 * Adds key versions as older versions only: they open values and verify signatures made with
 * them, and nothing is sealed or signed with them until {@link activateKey} makes one primary.
 * The first phase of a farm-wide hmac rotation: every instance learns the new key before any
 * instance signs with it. The primaries do not change, the store's key registry neither (nothing
 * depends on a key that never sealed or signed). Written where `storage` points, atomically; a
 * version already present is left as it is.
 */
export async function addOlderKeys(
  loc: KeyLocation,
  add: StoredKeys,
): Promise<{ added: string[]; present: string[] }> {
  for (const kind of KEY_KINDS) for (const k of add[kind]) makeKeyVersion(kind, k); // lengths
  if (add.master.length + add.hmac.length === 0)
    throw new CryptoError('invalid_bundle', 'the bundle holds no key');
  await loadKeyring(loc, { initialize: false }); // refuses an incomplete set: nothing to add to
  const { mode, keys } = await readStoredKeys(loc);
  const next: Record<KeyKind, Buffer[]> = { master: [...keys.master], hmac: [...keys.hmac] };
  const added: string[] = [];
  const present: string[] = [];
  for (const kind of KEY_KINDS) {
    for (const k of add[kind]) {
      if (next[kind].some((m) => m.equals(k))) present.push(`${kind} ${keyId(k)}`);
      else {
        next[kind].push(k);
        added.push(`${kind} ${keyId(k)}`);
      }
    }
  }
  if (added.length === 0) return { added, present };
  if (mode === 'JCR') await loc.store.transaction((tx) => writeRepositoryKeys(tx, next));
  else writeFileKeys(loc.cryptoDir, next);
  await audit({
    type: 'keys.imported',
    target: loc.cryptoDir,
    details: { source: 'push', verifyOnly: true, keys: added },
  });
  return { added, present };
}
