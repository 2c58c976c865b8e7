import { verify } from 'node:crypto';
import { isCanonicalCompactJws } from '../../crypto/base64url.js';
import { isLowS } from '../../crypto/ecdsa-low-s.js';
import type { VerificationKey } from './jwks-cache.js';

export interface AccessClaims {
  readonly clientId: string;
  readonly userId: string;
  readonly environment: string | undefined;
  readonly expiresAt: number;
  readonly issuedAt: number | undefined;
  /** Issue time in ms (IMS's `created_at`, else `iat`), for comparing with a user's changes. */
  readonly createdAt: number | undefined;
  readonly jti: string | undefined;
}

export interface Decoded {
  readonly kid: string;
  readonly alg: string;
  readonly signed: string;
  readonly signature: Buffer;
  readonly payload: Record<string, unknown>;
}

/** Splits a compact JWS; `undefined` when it is not one. */
export function decodeJwt(token: string): Decoded | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || token.length > 8192 || !isCanonicalCompactJws(token)) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
    if (typeof header['kid'] !== 'string' || typeof header['alg'] !== 'string') return undefined;
    // The IMS never marks a header member critical: a token that does asks for processing this
    // verifier does not do (RFC 7515 4.1.11: refuse it).
    if ('crit' in header) return undefined;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
    return {
      kid: header['kid'],
      alg: header['alg'],
      signed: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2]!, 'base64url'),
      payload: payload as Record<string, unknown>,
    };
  } catch {
    return undefined;
  }
}

/**
 * What is wrong with an access token's claims, or `undefined`: the one rule set of instances and
 * of the IMS itself (validate_token, introspect, revoke), so that both read a token alike. It must
 * say it is an access token (RFC 8725 3.11, explicit typing), be unexpired, and name its client
 * and user as strings.
 */
export function accessClaimsProblem(
  p: Readonly<Record<string, unknown>>,
  now: number,
): string | undefined {
  if (p['type'] !== 'access_token') return 'not an access token';
  if (typeof p['exp'] !== 'number' || p['exp'] * 1000 <= now) return 'access token expired';
  if (typeof p['client_id'] !== 'string' || typeof p['user_id'] !== 'string')
    return 'access token lacks client_id or user_id';
  return undefined;
}

/**
 * Verifies an IMS access token synchronously with the key its `kid` names. The algorithm must be
 * the key's own (ES256 or RS256): a token's `alg` alone is never trusted, so a public key can never
 * be used as an HMAC secret, nor an RS256 key for ES256.
 */
export function verifyAccessToken(
  decoded: Decoded,
  key: VerificationKey,
  now: number,
): { ok: true; claims: AccessClaims } | { ok: false; reason: string } {
  if (decoded.alg !== key.alg)
    return { ok: false, reason: `access token alg does not match key ${key.kid}` };
  const valid = verify(
    'sha256',
    Buffer.from(decoded.signed),
    key.alg === 'ES256' ? { key: key.key, dsaEncoding: 'ieee-p1363' } : key.key,
    decoded.signature,
  );
  if (!valid) return { ok: false, reason: 'access token signature is invalid' };
  // The other valid ES256 signature of the same token: a second text, refused.
  if (key.alg === 'ES256' && !isLowS(decoded.signature))
    return { ok: false, reason: 'access token signature is not in its low-s form' };
  const p = decoded.payload;
  const problem = accessClaimsProblem(p, now);
  if (problem) return { ok: false, reason: problem };
  return {
    ok: true,
    claims: {
      // Types checked by accessClaimsProblem.
      clientId: p['client_id'] as string,
      userId: p['user_id'] as string,
      environment: typeof p['env'] === 'string' ? p['env'] : undefined,
      expiresAt: (p['exp'] as number) * 1000,
      issuedAt: typeof p['iat'] === 'number' ? p['iat'] * 1000 : undefined,
      createdAt:
        typeof p['created_at'] === 'string' && /^\d{1,15}$/.test(p['created_at'])
          ? Number(p['created_at'])
          : typeof p['iat'] === 'number'
            ? p['iat'] * 1000
            : undefined,
      jti: typeof p['jti'] === 'string' ? p['jti'] : undefined,
    },
  };
}
