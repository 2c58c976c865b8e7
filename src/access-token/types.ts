import type { KeyObject } from 'node:crypto';

/** The algorithms access tokens are signed with. A key has exactly one. */
export type AccessTokenAlgorithm = 'ES256' | 'RS256';

/** The `typ` header of every access token the IMS signs. */
export const ACCESS_TOKEN_TYP = 'JWT';

/**
 * A key an access token may be verified with: its `kid`, the one algorithm it is used with
 * (whatever a token's header says) and the key, imported once as a KeyObject.
 */
export interface VerificationKey {
  readonly kid: string;
  readonly alg: AccessTokenAlgorithm;
  readonly key: KeyObject;
}

/** What verifiers need besides the keys: the issuer tokens must name, and the time. */
export interface VerifyContext {
  /** The deployment's issuer (`<public URL>/ims`): a token naming another is refused. */
  readonly issuer: string;
  /** ms since the epoch */
  readonly now: number;
}

/** A compact JWS split and parsed once. */
export interface DecodedToken {
  readonly kid: string;
  readonly alg: string;
  readonly typ: unknown;
  /** `<header>.<payload>`, the signed bytes. */
  readonly signed: string;
  readonly signature: Buffer;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** An access token's claims as instances use them. */
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

/** Why a token was refused, as a stable kind and a sentence. */
export type VerifyFailure =
  | 'malformed'
  | 'unknown_key'
  | 'alg_mismatch'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_issuer'
  | 'bad_claims';
