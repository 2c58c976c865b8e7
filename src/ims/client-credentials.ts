import type { StoreOps } from '../store/types.js';
import { ACCESS_TOKEN_LIFETIME_MS, signAccessToken } from './access-token.js';
import { authenticateClient } from './authenticate-client.js';
import { ImsError } from './errors.js';
import type { SigningKey } from './signing-keys.js';

/**
 * `POST /ims/token/v3` with `grant_type=client_credentials`: an access token for the integration
 * itself, for the requested scopes (comma or space separated; each one a metascope the integration
 * has; none asks for all). `expires_in` is in seconds here, as IMS answers on this endpoint.
 */
export async function clientCredentials(
  deps: { store: StoreOps; signingKey: () => SigningKey; issuer: string; clock?: () => number },
  fields: {
    grant_type?: string | undefined;
    client_id?: string | undefined;
    client_secret?: string | undefined;
    scope?: string | undefined;
  },
): Promise<{ access_token: string; token_type: 'bearer'; expires_in: number }> {
  if (fields.grant_type !== 'client_credentials') {
    throw new ImsError('unsupported_grant_type', 'grant_type must be client_credentials');
  }
  const integration = await authenticateClient(deps.store, fields.client_id, fields.client_secret);
  const requested = (fields.scope ?? '').split(/[\s,]+/).filter(Boolean);
  const denied = requested.filter((s) => !integration.metascopes.includes(s));
  if (denied.length > 0)
    throw new ImsError(
      'invalid_scope',
      `scope not granted to this integration: ${denied.join(', ')}`,
    );
  const scope = (requested.length > 0 ? requested : integration.metascopes).join(',');
  const { token } = await signAccessToken(
    deps.signingKey(),
    {
      clientId: integration.clientId,
      userId: integration.technicalAccountId,
      scope,
      environment: integration.environmentId,
    },
    deps.issuer,
    (deps.clock ?? Date.now)(),
  );
  return {
    access_token: token,
    token_type: 'bearer',
    expires_in: Math.floor(ACCESS_TOKEN_LIFETIME_MS / 1000) - 1,
  };
}
