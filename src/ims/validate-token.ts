import { verify } from 'node:crypto';
import { accessClaimsProblem, decodeJwt } from '../auth/bearer/verify-access-token.js';
import { isLowS } from '../crypto/ecdsa-low-s.js';
import type { SigningKey } from './signing-keys.js';

/**
 * Checks an access token this IMS issued: signature with the key its `kid` names (that key's
 * algorithm only), expiry and the claims instances require; `isRevoked` says whether it was revoked since.
 */
export function checkAccessToken(
  token: string | undefined,
  keys: readonly SigningKey[],
  now: number,
  isRevoked: (claims: Record<string, unknown>) => boolean,
): { valid: true; claims: Record<string, unknown> } | { valid: false; reason: string } {
  const decoded = token ? decodeJwt(token) : undefined;
  if (!decoded) return { valid: false, reason: 'malformed token' };
  const key = keys.find((k) => k.kid === decoded.kid);
  if (!key || decoded.alg !== key.alg) return { valid: false, reason: 'unknown signing key' };
  const ok = verify(
    'sha256',
    Buffer.from(decoded.signed),
    key.alg === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' } : key.privateKey,
    decoded.signature,
  );
  if (!ok || (key.alg === 'ES256' && !isLowS(decoded.signature)))
    return { valid: false, reason: 'bad signature' };
  const exp = decoded.payload['exp'];
  if (typeof exp !== 'number' || exp * 1000 <= now) return { valid: false, reason: 'expired' };
  // The instances' rules too: a token they would refuse is not valid here either.
  const problem = accessClaimsProblem(decoded.payload, now);
  if (problem) return { valid: false, reason: problem };
  if (isRevoked(decoded.payload)) return { valid: false, reason: 'revoked' };
  return { valid: true, claims: decoded.payload };
}
