import { isCanonicalBase64url } from './base64url.js';

/**
 * The grammar of protected values.
 *
 * latchkey (AES-256-GCM, authenticated):
 *
 *     value = "{" "lk1" "." kid "." data "}"
 *     kid   = 16 lowercase hex digits (the sealing master key's id)
 *     data  = base64url, no padding, of iv (12 bytes) || ciphertext || tag (16 bytes), spelled
 *             the one way protect writes it (unused bits of the last character zero)
 *
 * The additional authenticated data is the ASCII prefix `lk1.<kid>`, so neither the format tag
 * nor the key id can be changed without detection.
 *
 * AEM legacy (AES-128-CBC, PKCS#7, no MAC, no key id), read-only:
 *
 *     value = "{" hex "}"   hex = lowercase hex of iv (16 bytes) || ciphertext (n × 16 bytes, n ≥ 1)
 */
export const FORMAT_TAG = 'lk1';
export const IV_LENGTH = 12;
export const TAG_LENGTH = 16;

const LATCHKEY = /^\{lk1\.([0-9a-f]{16})\.([A-Za-z0-9_-]+)\}$/;
const LEGACY = /^\{((?:[0-9a-f]{32}){2,})\}$/;

export type ParsedValue =
  | { readonly format: 'lk1'; readonly kid: string; readonly data: Buffer; readonly aad: Buffer }
  | { readonly format: 'aem'; readonly iv: Buffer; readonly ciphertext: Buffer };

/** Parses a protected value of either format; `undefined` when the text is neither. */
export function parseProtected(value: string): ParsedValue | undefined {
  const m = LATCHKEY.exec(value);
  // One text per sealed value: the same bytes spelled otherwise are not a protected value.
  if (m && isCanonicalBase64url(m[2]!)) {
    return {
      format: 'lk1',
      kid: m[1]!,
      data: Buffer.from(m[2]!, 'base64url'),
      aad: Buffer.from(`${FORMAT_TAG}.${m[1]}`, 'ascii'),
    };
  }
  const legacy = LEGACY.exec(value);
  if (legacy) {
    const bytes = Buffer.from(legacy[1]!, 'hex');
    return { format: 'aem', iv: bytes.subarray(0, 16), ciphertext: bytes.subarray(16) };
  }
  return undefined;
}

/** Whether `value` has the shape of a protected value (latchkey's or AEM's). */
export function isProtected(value: unknown): value is string {
  return typeof value === 'string' && parseProtected(value) !== undefined;
}
