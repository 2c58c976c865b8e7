import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import type { VerificationKey } from '../access-token/types.js';
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
  /** What tokens it signed are verified with (access-token/verify.ts). */
  readonly verification: VerificationKey;
  readonly publicJwk: Record<string, unknown>;
}

function generate(alg: SigningAlgorithm): KeyObject {
  return alg === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

function toSigningKey(stored: StoredSigningKey, keyring: Keyring): SigningKey {
  const privateKey = createPrivateKey(unprotect(keyring, stored.privateKey));
  const publicKey = createPublicKey(privateKey);
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    kid: stored.kid,
    alg: stored.alg,
    activeFrom: Date.parse(stored.activeFrom ?? stored.createdAt),
    privateKey,
    verification: { kid: stored.kid, alg: stored.alg, key: publicKey },
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

  /** What current() and published() answer, computed when the keys or the time call for it. */
  #view:
    | {
        readonly current: SigningKey;
        readonly published: readonly SigningKey[];
        readonly byKid: ReadonlyMap<string, SigningKey>;
        /** When a key starts signing or retires next: the view is recomputed then. */
        readonly until: number;
      }
    | undefined;

  async refresh(): Promise<void> {
    const keys = await loadSigningKeys(this.#store, this.#keyring, this.#alg);
    // Keys already imported are kept (their KeyObjects, and the headers cached for them).
    const previous = new Map(this.#keys.map((k) => [k.kid, k]));
    this.#keys = keys.map((k) => {
      const p = previous.get(k.kid);
      return p && p.alg === k.alg && p.activeFrom === k.activeFrom ? p : k;
    });
    this.#view = undefined;
    this.#loadedAt = this.#clock();
  }

  /** Refreshes when older than `refreshMs` (call from a timer or before use). */
  async refreshIfOlder(refreshMs: number): Promise<void> {
    if (this.#clock() - this.#loadedAt >= refreshMs) await this.refresh();
  }

  #viewAt(now: number) {
    if (this.#view && now < this.#view.until) return this.#view;
    const own = this.#keys.filter((k) => k.alg === this.#alg);
    const active = own
      .filter((k) => k.activeFrom <= now)
      .sort((a, b) => b.activeFrom - a.activeFrom);
    const current = active[0] ?? own[0];
    if (!current) throw new Error(`no ${this.#alg} signing key`);
    const retention = this.#maxTokenLifetimeMs + 60_000;
    let until = Number.POSITIVE_INFINITY;
    const published = this.#keys.filter((k) => {
      const successor = this.#keys
        .filter((n) => n.alg === k.alg && n.activeFrom > k.activeFrom && n.activeFrom <= now)
        .sort((a, b) => a.activeFrom - b.activeFrom)[0];
      if (successor && now - successor.activeFrom <= retention)
        until = Math.min(until, successor.activeFrom + retention + 1);
      return !successor || now - successor.activeFrom <= retention;
    });
    for (const k of this.#keys) if (k.activeFrom > now) until = Math.min(until, k.activeFrom);
    this.#view = {
      current,
      published,
      byKid: new Map(published.map((k) => [k.kid, k])),
      until,
    };
    return this.#view;
  }

  /** The key that signs now: the newest active one of the algorithm. */
  current(): SigningKey {
    return this.#viewAt(this.#clock()).current;
  }

  /** The keys of the JWKS (and that validation accepts). */
  published(): readonly SigningKey[] {
    return this.#viewAt(this.#clock()).published;
  }

  /** The published key `kid` names, if any. */
  publishedKey(kid: string): SigningKey | undefined {
    return this.#viewAt(this.#clock()).byKid.get(kid);
  }
}
