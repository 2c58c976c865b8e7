import { randomUUID } from 'node:crypto';
import { signToken } from '../access-token/sign.js';
import { audit } from '../audit/record.js';
import type { SigningKey } from './signing-keys.js';

export const ACCESS_TOKEN_LIFETIME_MS = 24 * 3600 * 1000;

export interface AccessTokenSubject {
  readonly clientId: string;
  /** The technical account id, or an IMS user's id. */
  readonly userId: string;
  readonly scope: string;
  /** The environment the token is for (`p1-e1`): instances of other environments refuse it. */
  readonly environment: string;
}

/** Who issues access tokens: the deployment's issuer (`<public URL>/ims`) and the `as` claim. */
export interface TokenIssuer {
  readonly issuer: string;
  readonly as: string;
}

/** How a token was obtained, as the audit log records it. */
export type AccessTokenGrant = 'exchange-jwt' | 'client_credentials' | 'jwt-bearer' | 'dev-token';

/**
 * Signs an access token with IMS's claims: `id`, `type`, `client_id`, `user_id`, `as`,
 * `created_at` and `expires_in` (ms, as strings), `scope`, and `iss`, `exp`, `iat`, `jti`, with a
 * `kid` header. ES256 by default: cheap to verify on every request. Each token issued is in the
 * audit log (its id, client, user and scope; never the token).
 */
export async function signAccessToken(
  key: SigningKey,
  subject: AccessTokenSubject,
  issuer: TokenIssuer,
  nowMs: number,
  grant: AccessTokenGrant,
): Promise<{ token: string; expiresAtMs: number; jti: string }> {
  const id = randomUUID();
  const expiresAtMs = nowMs + ACCESS_TOKEN_LIFETIME_MS;
  // node:crypto with the key imported once (access-token/sign.ts); ES256 in its low-s form.
  const token = signToken(key, {
    id,
    type: 'access_token',
    client_id: subject.clientId,
    user_id: subject.userId,
    as: issuer.as,
    created_at: String(nowMs),
    expires_in: String(ACCESS_TOKEN_LIFETIME_MS),
    scope: subject.scope,
    env: subject.environment,
    iss: issuer.issuer,
    iat: Math.floor(nowMs / 1000),
    exp: Math.floor(expiresAtMs / 1000),
    jti: id,
  });
  await audit({
    type: 'token.issued',
    actor: subject.clientId,
    target: subject.userId,
    details: {
      kind: grant === 'dev-token' ? 'dev' : 'access',
      grant,
      client_id: subject.clientId,
      jti: id,
      scope: subject.scope,
      environment: subject.environment,
      expiresAt: new Date(expiresAtMs).toISOString(),
    },
  });
  return { token, expiresAtMs, jti: id };
}
