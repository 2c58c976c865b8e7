import { createHash } from 'node:crypto';

export type KeyKind = 'master' | 'hmac';
export const KEY_KINDS: readonly KeyKind[] = ['master', 'hmac'];

/**
 * SHA-256 of the raw key bytes, lowercase hex: the same as `sha256sum <keyfile>`, so a key file
 * can be checked by hand on any machine.
 */
export function fingerprint(material: Uint8Array): string {
  return createHash('sha256').update(material).digest('hex');
}

/** A key's id: the first 16 hex digits of its fingerprint. Derived, never stored apart. */
export function keyId(material: Uint8Array): string {
  return fingerprint(material).slice(0, 16);
}

export const KEY_ID = /^[0-9a-f]{16}$/;
