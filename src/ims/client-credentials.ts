import { ACCESS_TOKEN_LIFETIME_MS, signAccessToken } from './access-token.js';
import { ImsError } from './errors.js';
import type { ExchangeDeps } from './exchange-jwt.js';
import type { Integration } from './model.js';

/**
 * Scopes every integration may ask for besides its metascopes: what Adobe's OAuth
 * server-to-server clients routinely request. They grant nothing on instances.
 */
export const IDENTITY_SCOPES = ['openid', 'AdobeID', 'read_organizations'] as const;

/**
 * Access-token response of the OAuth token endpoints (`/ims/token/v3`, `/ims/token/v2`):
 * `expires_in` in seconds, as IMS answers there (the exchange answers milliseconds).
 */
export interface TokenEndpointResponse {
  readonly access_token: string;
  readonly token_type: 'bearer';
  readonly expires_in: number;
  readonly scope: string;
}

/**
 * Checks requested scopes (comma or space separated, as Adobe's clients send them) against what
 * an integration may have, from `allowed`: none asks for all of `fallback`.
 */
export function grantScopes(
  integration: Integration,
  requested: string | undefined,
  fallback: readonly string[],
  allowed: readonly string[] = [...integration.metascopes, ...IDENTITY_SCOPES],
): string[] {
  const wanted = (requested ?? '').split(/[\s,]+/).filter(Boolean);
  const denied = wanted.filter((s) => !allowed.includes(s));
  if (denied.length > 0)
    throw new ImsError(
      'invalid_scope',
      `scope not granted to this integration: ${denied.join(', ')}`,
    );
  return [...new Set(wanted.length > 0 ? wanted : fallback)];
}

/** Signs an access token for an integration's technical account, in the token endpoints' form. */
export async function issueForIntegration(
  deps: ExchangeDeps,
  integration: Integration,
  scopes: readonly string[],
  now: number,
  grant: 'client_credentials' | 'jwt-bearer',
): Promise<TokenEndpointResponse> {
  const scope = scopes.join(',');
  const { token } = await signAccessToken(
    deps.signingKey(),
    {
      clientId: integration.clientId,
      userId: integration.technicalAccountId,
      scope,
      environment: integration.environmentId,
    },
    deps.tokenIssuer,
    now,
    grant,
  );
  return {
    access_token: token,
    token_type: 'bearer',
    expires_in: Math.floor(ACCESS_TOKEN_LIFETIME_MS / 1000) - 1,
    scope,
  };
}

/**
 * The `client_credentials` grant for an authenticated integration: a token for the integration
 * itself, for the requested scopes (its metascopes and {@link IDENTITY_SCOPES}; none asks for
 * all its metascopes). `org_id` (sent by @adobe/aio-lib-ims), when given, must be the
 * integration's organization.
 */
export async function clientCredentials(
  deps: ExchangeDeps,
  integration: Integration,
  fields: { scope?: string | undefined; org_id?: string | undefined },
): Promise<TokenEndpointResponse> {
  if (fields.org_id && fields.org_id !== integration.orgId)
    throw new ImsError('invalid_request', 'org_id is not the organization of this client');
  const scopes = grantScopes(integration, fields.scope, integration.metascopes);
  return issueForIntegration(
    deps,
    integration,
    scopes,
    (deps.clock ?? Date.now)(),
    'client_credentials',
  );
}
