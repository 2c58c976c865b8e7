import type { StoreOps } from '../store/types.js';
import { ACCESS_TOKEN_LIFETIME_MS, signAccessToken, type TokenIssuer } from './access-token.js';
import type { ClientCache } from './client-cache.js';
import { ImsError } from './errors.js';
import { type Integration, NS } from './model.js';
import type { SigningKey } from './signing-keys.js';
import { SKEW_S, verifyIntegrationJwt } from './verify-integration-jwt.js';

export interface ExchangeDeps {
  readonly store: StoreOps;
  /** Authenticated clients kept until they change (client-cache.ts). */
  readonly clients?: ClientCache | undefined;
  /** The key that signs new access tokens. */
  readonly signingKey: () => SigningKey;
  /** The deployment's issuer and `as` claim (fixed once the process knows its public URL). */
  readonly tokenIssuer: TokenIssuer;
  /**
   * The IMS URLs an exchange JWT may name: its `aud` must be one of them plus `/c/<client_id>`,
   * its metascope claims one of them plus `/s/<metascope>`. This IMS's public URL first, then
   * `ims.audiences`.
   */
  readonly audiences: () => readonly string[];
  readonly clock?: () => number;
}

const MAX_AHEAD_MS = 24 * 3600 * 1000;

/**
 * Checks an exchange JWT (Adobe's service-credentials JWT) of an authenticated integration: its
 * RS256 signature against the integration's certificates, its claims (`exp` at most 24 h ahead,
 * 30 s skew; `iat` not in the future; `iss` = the organization; `sub` = the technical account;
 * `aud` = this IMS's URL plus `/c/<client_id>`; metascope claims named with this IMS's URL, for
 * metascopes the integration has) and that its `jti`, if any, was never used
 * before. Returns the metascopes it asks for. Shared by `/ims/exchange/jwt` and the RFC 7523
 * `jwt-bearer` grant.
 */
export async function verifyExchangeJwt(
  deps: Pick<ExchangeDeps, 'store' | 'audiences'>,
  integration: Integration,
  jwt: string | undefined,
  now: number,
  field = 'jwt_token',
): Promise<string[]> {
  if (!jwt) throw new ImsError('invalid_token', `${field} parameter is missing`);
  const claims = verifyIntegrationJwt(jwt, integration, {
    code: 'invalid_token',
    what: 'the JWT',
    requiredClaims: ['exp', 'iss', 'sub', 'aud'],
  });
  if ((claims.exp ?? 0) * 1000 > now + MAX_AHEAD_MS + SKEW_S * 1000) {
    throw new ImsError('invalid_token', 'the JWT expires more than 24 hours ahead');
  }
  if (claims.iss !== integration.orgId)
    throw new ImsError('invalid_token', 'iss must be the organization id');
  if (claims.sub !== integration.technicalAccountId)
    throw new ImsError('invalid_token', 'sub must be the technical account id');
  // This IMS's own URL, not any URL ending the right way: a JWT made for another IMS (Adobe's,
  // or a test deployment's) is no good here.
  const bases = deps.audiences().map((b) => b.replace(/\/+$/, ''));
  const expected = bases.map((b) => `${b}/c/${integration.clientId}`);
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.some((a) => typeof a === 'string' && expected.includes(a))) {
    throw new ImsError('invalid_token', `aud must be ${expected[0]}`);
  }
  const scopeClaims = Object.entries(claims).filter(
    ([k, v]) => v === true && /\/s\/[^/]+$/.test(k),
  );
  const foreign = scopeClaims.filter(([k]) => !bases.includes(k.slice(0, k.lastIndexOf('/s/'))));
  if (foreign.length > 0) {
    throw new ImsError(
      'invalid_scope',
      `metascope claims must be ${bases[0]}/s/<metascope>, got ${foreign
        .map(([k]) => JSON.stringify(k.slice(0, 120)))
        .join(', ')}`,
    );
  }
  const requested = scopeClaims.map(([k]) => k.slice(k.lastIndexOf('/') + 1));
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
      { expiresAt: (claims.exp ?? 0) * 1000 + SKEW_S * 1000 },
    );
    if (!fresh) throw new ImsError('invalid_jti', 'this jti was used already');
  }
  return requested;
}

/**
 * `POST /ims/exchange/jwt` for an authenticated integration: checks the JWT (see
 * {@link verifyExchangeJwt}) and issues an access token valid 24 h. `expires_in` is in
 * milliseconds, as Adobe's IMS answers.
 */
export async function exchangeJwt(
  deps: ExchangeDeps,
  integration: Integration,
  jwt: string | undefined,
): Promise<{ token_type: 'bearer'; access_token: string; expires_in: number }> {
  const now = (deps.clock ?? Date.now)();
  const metascopes = await verifyExchangeJwt(deps, integration, jwt, now);
  const { token } = await signAccessToken(
    deps.signingKey(),
    {
      clientId: integration.clientId,
      userId: integration.technicalAccountId,
      scope: metascopes.join(','),
      environment: integration.environmentId,
    },
    deps.tokenIssuer,
    now,
    'exchange-jwt',
  );
  return { token_type: 'bearer', access_token: token, expires_in: ACCESS_TOKEN_LIFETIME_MS - 1 };
}
