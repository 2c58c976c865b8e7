import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { audit } from '../audit/record.js';
import type { Keyring } from '../crypto/keyring.js';
import { protect } from '../crypto/protect.js';
import { unprotect } from '../crypto/unprotect.js';
import { announce, CHANGE } from '../farm/changes.js';
import type { Store } from '../store/types.js';
import { NS } from './model.js';

export type SigningAlgorithm = 'ES256' | 'RS256';

interface StoredSigningKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  /** PKCS#8 PEM, sealed with the master key. */
  readonly privateKey: string;
  readonly createdAt: string;
  /** When it starts signing (ISO); published in the JWKS from creation. Absent: at once. */
  readonly activeFrom?: string;
}

export interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  /** When it starts signing (ms). */
  readonly activeFrom: number;
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
    activeFrom: Date.parse(stored.activeFrom ?? stored.createdAt),
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

/**
 * Makes a new signing key of `alg` that is published at once and signs from `now + publishAheadMs`
 * on, so that instances (which refetch the JWKS on an unknown kid anyway) can know it before they
 * meet it. The previous key keeps being published until every token it signed has expired.
 */
export async function rotateSigningKey(
  store: Store,
  keyring: Keyring,
  alg: SigningAlgorithm,
  publishAheadMs: number,
  now = Date.now(),
): Promise<{ kid: string; activeFrom: number }> {
  const kid = `${alg.toLowerCase()}-${now.toString(36)}`;
  const activeFrom = now + publishAheadMs;
  const record: StoredSigningKey = {
    kid,
    alg,
    privateKey: protect(keyring, generate(alg).export({ format: 'pem', type: 'pkcs8' }).toString()),
    createdAt: new Date(now).toISOString(),
    activeFrom: new Date(activeFrom).toISOString(),
  };
  await store.putRecord(NS.signingKey, kid, { ...record });
  await announce(store, CHANGE.signingKeys, kid);
  await audit({
    type: 'signing-key.rotated',
    target: kid,
    details: { alg, activeFrom: record.activeFrom },
  });
  return { kid, activeFrom };
}

/**
 * The signing keys a running IMS uses, re-read from the store every `refreshMs` (so a rotation by
 * the CLI or another IMS process applies without a restart). `current` signs; `published` are
 * those of the JWKS: every key not yet retired, that is, unless a newer key of its algorithm has
 * been active longer than the longest token lifetime (then nothing it signed is still valid).
 */
export class SigningKeyRing {
  readonly #store: Store;
  readonly #keyring: Keyring;
  readonly #alg: SigningAlgorithm;
  readonly #maxTokenLifetimeMs: number;
  readonly #clock: () => number;
  #keys: SigningKey[] = [];
  #loadedAt = Number.NEGATIVE_INFINITY;

  constructor(
    store: Store,
    keyring: Keyring,
    alg: SigningAlgorithm,
    maxTokenLifetimeMs: number,
    clock: () => number = Date.now,
  ) {
    this.#store = store;
    this.#keyring = keyring;
    this.#alg = alg;
    this.#maxTokenLifetimeMs = maxTokenLifetimeMs;
    this.#clock = clock;
  }

  async refresh(): Promise<void> {
    this.#keys = await loadSigningKeys(this.#store, this.#keyring, this.#alg);
    this.#loadedAt = this.#clock();
  }

  /** Refreshes when older than `refreshMs` (call from a timer or before use). */
  async refreshIfOlder(refreshMs: number): Promise<void> {
    if (this.#clock() - this.#loadedAt >= refreshMs) await this.refresh();
  }

  current(): SigningKey {
    const now = this.#clock();
    const active = this.#keys
      .filter((k) => k.alg === this.#alg && k.activeFrom <= now)
      .sort((a, b) => b.activeFrom - a.activeFrom);
    const key = active[0] ?? this.#keys.find((k) => k.alg === this.#alg);
    if (!key) throw new Error(`no ${this.#alg} signing key`);
    return key;
  }

  published(): SigningKey[] {
    const now = this.#clock();
    return this.#keys.filter((k) => {
      const successor = this.#keys
        .filter((n) => n.alg === k.alg && n.activeFrom > k.activeFrom && n.activeFrom <= now)
        .sort((a, b) => a.activeFrom - b.activeFrom)[0];
      return !successor || now - successor.activeFrom <= this.#maxTokenLifetimeMs + 60_000;
    });
  }
}
