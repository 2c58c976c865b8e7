import { isCanonicalCompactJws } from '../crypto/base64url.js';
import type { DecodedToken } from './types.js';

/** Longest token looked at: IMS access tokens are well under 2 KiB. */
const MAX_TOKEN_LENGTH = 8192;

/**
 * Splits a compact JWS and parses its header and payload, once; `undefined` when it is not one
 * (not canonical base64url, not JSON objects, no string `kid` and `alg`, or a `crit` header
 * member: the IMS never marks one critical, so a token that does asks for processing no verifier
 * here does, RFC 7515 4.1.11).
 */
export function decodeToken(token: string): DecodedToken | undefined {
  if (token.length > MAX_TOKEN_LENGTH || !isCanonicalCompactJws(token)) return undefined;
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, first), 'base64url').toString('utf8'));
    const payload = JSON.parse(
      Buffer.from(token.slice(first + 1, second), 'base64url').toString('utf8'),
    );
    if (typeof header !== 'object' || header === null || Array.isArray(header)) return undefined;
    if (typeof header.kid !== 'string' || typeof header.alg !== 'string') return undefined;
    if ('crit' in header) return undefined;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
    return {
      kid: header.kid,
      alg: header.alg,
      typ: header.typ,
      signed: token.slice(0, second),
      signature: Buffer.from(token.slice(second + 1), 'base64url'),
      payload,
    };
  } catch {
    return undefined;
  }
}
