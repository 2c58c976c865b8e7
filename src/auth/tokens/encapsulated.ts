import { isCanonicalBase64url } from '../../crypto/base64url.js';
import { hmacSign, hmacVerify, type Keyring } from '../../crypto/keyring.js';

/**
 * Encapsulated tokens: everything needed to validate them travels in the token, signed with the
 * shared hmac key, so any instance holding that key validates them without a store read.
 *
 *     token   = "e1." kid "." uid "." iat "." exp "." mac
 *     kid     = id of the hmac key (16 hex digits)
 *     uid     = base64url of the user id
 *     iat/exp = issue and expiry times, ms since the epoch, decimal
 *     mac     = base64url of HMAC-SHA256(hmac key, everything before the last ".")
 */
export const ENCAPSULATED_PREFIX = 'e1.';

const FORMAT =
  /^e1\.([0-9a-f]{16})\.([A-Za-z0-9_-]{1,200})\.(\d{1,15})\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/;

export interface EncapsulatedClaims {
  readonly kid: string;
  readonly userId: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

export function issueEncapsulated(
  keyring: Keyring,
  userId: string,
  now: number,
  lifetimeMs: number,
): string {
  const body = `e1.${keyring.hmac.primary.id}.${Buffer.from(userId, 'utf8').toString('base64url')}.${now}.${now + lifetimeMs}`;
  const { tag } = hmacSign(keyring, body);
  return `${body}.${tag.toString('base64url')}`;
}

export type EncapsulatedResult =
  | { readonly ok: true; readonly claims: EncapsulatedClaims }
  | { readonly ok: false; readonly reason: string };

/** Checks format, signature (constant time) and expiry. Reads nothing but the keyring. */
export function verifyEncapsulated(
  keyring: Keyring,
  token: string,
  now: number,
): EncapsulatedResult {
  const m = FORMAT.exec(token);
  if (!m) return { ok: false, reason: 'malformed encapsulated login-token' };
  const [, kid, uid, iat, exp, mac] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  // One spelling per token: the same bytes with other unused bits are another, refused, text.
  if (!isCanonicalBase64url(uid) || !isCanonicalBase64url(mac))
    return { ok: false, reason: 'malformed encapsulated login-token (non-canonical base64url)' };
  if (!keyring.hmac.byId.has(kid)) {
    return { ok: false, reason: `encapsulated login-token signed with unknown hmac key ${kid}` };
  }
  const body = token.slice(0, token.lastIndexOf('.'));
  if (!hmacVerify(keyring, kid, body, Buffer.from(mac, 'base64url'))) {
    return { ok: false, reason: 'encapsulated login-token has a bad signature' };
  }
  const expiresAt = Number(exp);
  if (expiresAt <= now) return { ok: false, reason: 'encapsulated login-token expired' };
  return {
    ok: true,
    claims: {
      kid,
      userId: Buffer.from(uid, 'base64url').toString('utf8'),
      issuedAt: Number(iat),
      expiresAt,
    },
  };
}
