import {
  createHmac,
  createSecretKey,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { CryptoError } from './errors.js';
import { fingerprint, type KeyKind, keyId } from './key-id.js';

/** Key lengths latchkey generates and accepts (AES-256-GCM; HMAC-SHA256). */
export const KEY_LENGTH: Readonly<Record<KeyKind, number>> = { master: 32, hmac: 32 };
/** AEM's `master` file: 16 bytes (AES-128-CBC). */
export const AEM_MASTER_LENGTH = 16;

export interface KeyVersion {
  readonly kind: KeyKind;
  readonly id: string;
  readonly fingerprint: string;
  readonly material: Buffer;
  /** Imported once per process, used for every operation (never re-imported per call). */
  readonly key: KeyObject;
}

export function makeKeyVersion(kind: KeyKind, material: Buffer): KeyVersion {
  if (material.length !== KEY_LENGTH[kind]) {
    throw new CryptoError(
      'invalid_key',
      `a ${kind} key must be ${KEY_LENGTH[kind]} bytes, this one has ${material.length}`,
    );
  }
  return {
    kind,
    id: keyId(material),
    fingerprint: fingerprint(material),
    material,
    key: createSecretKey(material),
  };
}

export function generateKeyVersion(kind: KeyKind): KeyVersion {
  return makeKeyVersion(kind, randomBytes(KEY_LENGTH[kind]));
}

/** One kind's versions: the primary (used for new seals and signatures) and older ones. */
export interface KeySet {
  readonly primary: KeyVersion;
  /** Every version by id, the primary included. */
  readonly byId: ReadonlyMap<string, KeyVersion>;
}

export function makeKeySet(primary: KeyVersion, older: readonly KeyVersion[] = []): KeySet {
  const byId = new Map<string, KeyVersion>([[primary.id, primary]]);
  for (const v of older) if (!byId.has(v.id)) byId.set(v.id, v);
  return { primary, byId };
}

/**
 * The keys of one data folder: master (seals protected values) and hmac (signs tokens), each
 * with its versions, and optionally an imported AEM master key (unseals AEM's legacy values only).
 * Immutable: a reload builds a new keyring.
 */
export interface Keyring {
  readonly master: KeySet;
  readonly hmac: KeySet;
  readonly aemMaster: Buffer | undefined;
}

/** HMAC-SHA256 of `data` with the primary hmac key; returns the key id with the tag. */
export function hmacSign(
  keyring: Keyring,
  data: string | Uint8Array,
): { kid: string; tag: Buffer } {
  const k = keyring.hmac.primary;
  return { kid: k.id, tag: createHmac('sha256', k.key).update(data).digest() };
}

/**
 * Checks an HMAC-SHA256 tag in constant time with the version `kid` names. Throws `unknown_key`
 * when this keyring has no such version; returns false for a wrong tag.
 */
export function hmacVerify(
  keyring: Keyring,
  kid: string,
  data: string | Uint8Array,
  tag: Uint8Array,
): boolean {
  const k = keyring.hmac.byId.get(kid);
  if (!k) throw new CryptoError('unknown_key', `no hmac key with id ${kid}`);
  const expected = createHmac('sha256', k.key).update(data).digest();
  return tag.length === expected.length && timingSafeEqual(tag, expected);
}
