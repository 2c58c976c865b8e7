import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import type { Keyring } from '../crypto/keyring.js';
import { protect } from '../crypto/protect.js';
import { unprotect } from '../crypto/unprotect.js';
import type { Store } from '../store/types.js';
import { NS } from './model.js';

export type SigningAlgorithm = 'ES256' | 'RS256';

interface StoredSigningKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  /** PKCS#8 PEM, sealed with the master key. */
  readonly privateKey: string;
  readonly createdAt: string;
}

export interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicJwk: Record<string, unknown>;
}

function generate(alg: SigningAlgorithm): KeyObject {
  return alg === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

function toSigningKey(stored: StoredSigningKey, keyring: Keyring): SigningKey {
  const privateKey = createPrivateKey(unprotect(keyring, stored.privateKey));
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return {
    kid: stored.kid,
    alg: stored.alg,
    privateKey,
    publicJwk: { ...jwk, kid: stored.kid, alg: stored.alg, use: 'sig' },
  };
}

/**
 * The access-token signing keys, newest first, imported once as KeyObjects. Creates the first
 * key of `alg` when there is none (or none of that algorithm). Private keys are stored sealed
 * with the master key.
 */
export async function loadSigningKeys(
  store: Store,
  keyring: Keyring,
  alg: SigningAlgorithm,
): Promise<SigningKey[]> {
  let stored = (await store.listRecords(NS.signingKey)).map(
    (r) => r.value as unknown as StoredSigningKey,
  );
  if (!stored.some((k) => k.alg === alg)) {
    const key = generate(alg);
    const created = new Date().toISOString();
    // A fixed id for the first key of an algorithm: when several IMS processes start together on
    // one store, insert-if-absent lets exactly one create it and all use the same.
    const kid = `${alg.toLowerCase()}-1`;
    const record: StoredSigningKey = {
      kid,
      alg,
      privateKey: protect(keyring, key.export({ format: 'pem', type: 'pkcs8' }).toString()),
      createdAt: created,
    };
    await store.insertRecord(NS.signingKey, kid, { ...record });
    stored = (await store.listRecords(NS.signingKey)).map(
      (r) => r.value as unknown as StoredSigningKey,
    );
  }
  return stored
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .map((s) => toSigningKey(s, keyring));
}
