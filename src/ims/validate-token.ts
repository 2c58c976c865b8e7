import type { VerificationKey, VerifyContext } from '../access-token/types.js';
import { verifyAccessToken } from '../access-token/verify.js';

/** An access token's check, as `/ims/validate_token`, introspection, revocation and profile see it. */
export type TokenCheck =
  | { valid: true; claims: Record<string, unknown> }
  | { valid: false; reason: string };

/**
 * Checks an access token this IMS issued with the one verifier of access tokens
 * (access-token/verify.ts: the key its `kid` names and that key's algorithm only, the claims
 * instances require, `iss` this deployment's issuer); `isRevoked` says whether it was revoked since.
 * The reasons are those `/ims/validate_token` has always answered for the common cases.
 */
export function checkAccessToken(
  token: string | undefined,
  keyOf: (kid: string) => VerificationKey | undefined,
  context: VerifyContext,
  isRevoked: (claims: Record<string, unknown>) => boolean,
): TokenCheck {
  const r = verifyAccessToken(token, keyOf, context);
  if (!r.ok) {
    switch (r.failure) {
      case 'malformed':
        return { valid: false, reason: 'malformed token' };
      case 'unknown_key':
      case 'alg_mismatch':
        return { valid: false, reason: 'unknown signing key' };
      case 'bad_signature':
        return { valid: false, reason: 'bad signature' };
      case 'expired':
        return { valid: false, reason: 'expired' };
      default:
        return { valid: false, reason: r.reason };
    }
  }
  const claims = r.payload as Record<string, unknown>;
  if (isRevoked(claims)) return { valid: false, reason: 'revoked' };
  return { valid: true, claims };
}
