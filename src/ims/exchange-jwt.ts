import { type KeyObject, X509Certificate } from 'node:crypto';
import { decodeProtectedHeader, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import type { StoreOps } from '../store/types.js';
import { ACCESS_TOKEN_LIFETIME_MS, signAccessToken } from './access-token.js';
import { authenticateClient } from './authenticate-client.js';
import { ImsError } from './errors.js';
import { NS } from './model.js';
import type { SigningKey } from './signing-keys.js';

export interface ExchangeDeps {
  readonly store: StoreOps;
  /** The key that signs new access tokens. */
  readonly signingKey: () => SigningKey;
  readonly issuer: string;
  readonly clock?: () => number;
}

export interface ExchangeFields {
  readonly client_id?: string | undefined;
  readonly client_secret?: string | undefined;
  readonly jwt_token?: string | undefined;
}

const MAX_AHEAD_MS = 24 * 3600 * 1000;
const SKEW_S = 30;

/** Certificate public keys, imported once per certificate. */
const certificateKeys = new Map<string, KeyObject>();
function keyOf(pem: string): KeyObject {
  let key = certificateKeys.get(pem);
  if (!key) {
    key = new X509Certificate(pem).publicKey;
    if (certificateKeys.size > 10_000) certificateKeys.clear();
    certificateKeys.set(pem, key);
  }
  return key;
}

async function verifyWithCertificates(
  jwt: string,
  certificates: readonly string[],
): Promise<JWTPayload> {
  let lastError: unknown;
  for (const pem of certificates) {
    try {
      const { payload } = await jwtVerify(jwt, keyOf(pem), {
        algorithms: ['RS256'],
        clockTolerance: SKEW_S,
        requiredClaims: ['exp', 'iss', 'sub', 'aud'],
      });
      return payload;
    } catch (err) {
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
        lastError = err;
        continue; // another certificate of the integration may match
      }
      if (err instanceof joseErrors.JWTExpired)
        throw new ImsError('invalid_token', 'the JWT has expired');
      if (err instanceof joseErrors.JWTClaimValidationFailed) {
        throw new ImsError('invalid_token', `the JWT lacks or has a bad ${err.claim} claim`);
      }
      throw new ImsError('invalid_token', 'the JWT is malformed');
    }
  }
  void lastError;
  throw new ImsError(
    'invalid_signature',
    'the JWT signature does not match any certificate of this integration',
  );
}

/**
 * `POST /ims/exchange/jwt`: checks the client id and secret, the JWT's RS256 signature against the
 * integration's certificates, its claims (`exp` at most 24 h ahead, 30 s skew; `iss` = the
 * organization; `sub` = the technical account; `aud` ending in `/c/<client_id>`; metascopes the
 * integration has) and that its `jti`, if any, was never used before; then issues an access token
 * valid 24 h. `expires_in` is in milliseconds, as Adobe's IMS answers.
 */
export async function exchangeJwt(
  deps: ExchangeDeps,
  fields: ExchangeFields,
): Promise<{ token_type: 'bearer'; access_token: string; expires_in: number }> {
  const now = (deps.clock ?? Date.now)();
  const integration = await authenticateClient(deps.store, fields.client_id, fields.client_secret);
  const jwt = fields.jwt_token;
  if (!jwt) throw new ImsError('invalid_token', 'jwt_token parameter is missing');
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(jwt).alg;
  } catch {
    throw new ImsError('invalid_token', 'the JWT is malformed');
  }
  if (alg !== 'RS256') throw new ImsError('invalid_token', 'the JWT must be signed with RS256');

  const claims = await verifyWithCertificates(jwt, integration.certificates);
  if ((claims.exp ?? 0) * 1000 > now + MAX_AHEAD_MS + SKEW_S * 1000) {
    throw new ImsError('invalid_token', 'the JWT expires more than 24 hours ahead');
  }
  if (claims.iss !== integration.orgId)
    throw new ImsError('invalid_token', 'iss must be the organization id');
  if (claims.sub !== integration.technicalAccountId)
    throw new ImsError('invalid_token', 'sub must be the technical account id');
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.some((a) => typeof a === 'string' && a.endsWith(`/c/${integration.clientId}`))) {
    throw new ImsError('invalid_token', `aud must end with /c/${integration.clientId}`);
  }
  const requested = Object.entries(claims)
    .filter(([k, v]) => v === true && /\/s\/[^/]+$/.test(k))
    .map(([k]) => k.slice(k.lastIndexOf('/') + 1));
  if (requested.length === 0) throw new ImsError('invalid_scope', 'the JWT names no metascope');
  const denied = requested.filter((s) => !integration.metascopes.includes(s));
  if (denied.length > 0)
    throw new ImsError(
      'invalid_scope',
      `metascope not granted to this integration: ${denied.join(', ')}`,
    );

  if (claims.jti !== undefined) {
    if (typeof claims.jti !== 'string' || claims.jti === '' || claims.jti.length > 256) {
      throw new ImsError('invalid_jti', 'jti must be a non-empty string');
    }
    const fresh = await deps.store.insertRecord(
      NS.jti,
      `${integration.clientId}:${claims.jti}`,
      now,
      {
        expiresAt: (claims.exp ?? 0) * 1000 + SKEW_S * 1000,
      },
    );
    if (!fresh) throw new ImsError('invalid_jti', 'this jti was used already');
  }

  const { token } = await signAccessToken(
    deps.signingKey(),
    {
      clientId: integration.clientId,
      userId: integration.technicalAccountId,
      scope: requested.join(','),
      environment: integration.environmentId,
    },
    deps.issuer,
    now,
  );
  return { token_type: 'bearer', access_token: token, expires_in: ACCESS_TOKEN_LIFETIME_MS - 1 };
}
