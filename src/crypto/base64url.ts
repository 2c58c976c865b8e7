/**
 * Canonical encodings only. A base64url string can spell the same bytes several ways (padding,
 * or different values in the unused low bits of its last character); a token or cookie in any
 * spelling but the one latchkey writes is refused, so that a token has exactly one text form
 * (caches, revocation lists and logs key on that text).
 */
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Whether `text` is the unpadded base64url encoding of some bytes, spelled the one way. */
export function isCanonicalBase64url(text: string): boolean {
  return BASE64URL.test(text) && Buffer.from(text, 'base64url').toString('base64url') === text;
}

/** Whether `text` is the padded base64 encoding of some bytes, spelled the one way. */
export function isCanonicalBase64(text: string): boolean {
  return BASE64.test(text) && Buffer.from(text, 'base64').toString('base64') === text;
}

/** Whether a compact JWS has three canonical base64url parts. */
export function isCanonicalCompactJws(token: string): boolean {
  const parts = token.split('.');
  return parts.length === 3 && parts.every(isCanonicalBase64url);
}
