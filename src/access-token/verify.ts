import { verify } from 'node:crypto';
import { isLowS } from '../crypto/ecdsa-low-s.js';
import { decodeToken } from './decode.js';
import {
  ACCESS_TOKEN_TYP,
  type AccessClaims,
  type DecodedToken,
  type VerificationKey,
  type VerifyContext,
  type VerifyFailure,
} from './types.js';

/** Clock skew allowed on `nbf` (a token's `exp` is never stretched). */
const NBF_SKEW_S = 30;

export type Verified =
  | {
      readonly ok: true;
      readonly claims: AccessClaims;
      readonly payload: Readonly<Record<string, unknown>>;
    }
  | { readonly ok: false; readonly failure: VerifyFailure; readonly reason: string };

const refuse = (failure: VerifyFailure, reason: string): Verified => ({
  ok: false,
  failure,
  reason,
});

/**
 * The one claims check of access tokens, for instances and the IMS alike: the header's `typ`, the
 * `type` claim (`access_token`: RFC 8725 3.11, explicit typing), `iss` (the deployment's issuer),
 * `exp` (past: expired), `nbf` (if any, not ahead by more than 30 s), and the client and user as
 * strings. `undefined` when it holds.
 */
export function accessClaimsProblem(
  decoded: Pick<DecodedToken, 'typ' | 'payload'>,
  context: VerifyContext,
): { failure: VerifyFailure; reason: string } | undefined {
  const p = decoded.payload;
  if (decoded.typ !== ACCESS_TOKEN_TYP || p['type'] !== 'access_token')
    return { failure: 'bad_claims', reason: 'not an access token' };
  if (typeof p['exp'] !== 'number' || p['exp'] * 1000 <= context.now)
    return { failure: 'expired', reason: 'access token expired' };
  if (
    p['nbf'] !== undefined &&
    (typeof p['nbf'] !== 'number' || (p['nbf'] - NBF_SKEW_S) * 1000 > context.now)
  )
    return { failure: 'not_yet_valid', reason: 'access token not valid yet (nbf)' };
  if (p['iss'] !== context.issuer)
    return { failure: 'wrong_issuer', reason: `access token is not issued by ${context.issuer}` };
  if (typeof p['client_id'] !== 'string' || typeof p['user_id'] !== 'string')
    return { failure: 'bad_claims', reason: 'access token lacks client_id or user_id' };
  return undefined;
}

function claimsOf(p: Readonly<Record<string, unknown>>): AccessClaims {
  const iat = typeof p['iat'] === 'number' ? p['iat'] * 1000 : undefined;
  const created = p['created_at'];
  return {
    // Types checked by accessClaimsProblem.
    clientId: p['client_id'] as string,
    userId: p['user_id'] as string,
    environment: typeof p['env'] === 'string' ? p['env'] : undefined,
    expiresAt: (p['exp'] as number) * 1000,
    issuedAt: iat,
    createdAt: typeof created === 'string' && /^\d{1,15}$/.test(created) ? Number(created) : iat,
    jti: typeof p['jti'] === 'string' ? p['jti'] : undefined,
  };
}

/**
 * Verifies an access token with `node:crypto`, synchronously: the key its `kid` names (from
 * `keyOf`), used with that key's own algorithm only (a token's `alg` is never trusted: a public key
 * is never an HMAC secret, an RS256 key never an ES256 one), the signature (ES256: its low-s form
 * only, see crypto/ecdsa-low-s.ts), then {@link accessClaimsProblem}. Used by IMS validation,
 * `/ims/profile`, introspection, revocation and instances' bearer authentication.
 */
export function verifyAccessToken(
  token: string | DecodedToken | undefined,
  keyOf: (kid: string) => VerificationKey | undefined,
  context: VerifyContext,
): Verified {
  const decoded = typeof token === 'string' ? decodeToken(token) : token;
  if (!decoded) return refuse('malformed', 'malformed access token');
  const key = keyOf(decoded.kid);
  if (!key)
    return refuse(
      'unknown_key',
      `access token signed with a key the IMS does not publish (${decoded.kid.slice(0, 40)})`,
    );
  if (decoded.alg !== key.alg)
    return refuse('alg_mismatch', `access token alg does not match key ${key.kid}`);
  const valid = verify(
    'sha256',
    Buffer.from(decoded.signed),
    key.alg === 'ES256' ? { key: key.key, dsaEncoding: 'ieee-p1363' } : key.key,
    decoded.signature,
  );
  if (!valid) return refuse('bad_signature', 'access token signature is invalid');
  // The other valid ES256 signature of the same token: a second text, refused.
  if (key.alg === 'ES256' && !isLowS(decoded.signature))
    return refuse('bad_signature', 'access token signature is not in its low-s form');
  const problem = accessClaimsProblem(decoded, context);
  if (problem) return refuse(problem.failure, problem.reason);
  return { ok: true, claims: claimsOf(decoded.payload), payload: decoded.payload };
}
