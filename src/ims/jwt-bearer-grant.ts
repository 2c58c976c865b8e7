import {
  grantScopes,
  issueForIntegration,
  type TokenEndpointResponse,
} from './client-credentials.js';
import { ImsError } from './errors.js';
import { type ExchangeDeps, verifyExchangeJwt } from './exchange-jwt.js';
import type { Integration } from './model.js';

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * The RFC 7523 `jwt-bearer` grant (section 2.1) for an authenticated integration: the
 * `assertion` is the very JWT `/ims/exchange/jwt` takes (signed with the integration's key, `iss`
 * the organization, `sub` the technical account, `aud` ending in `/c/<client_id>`, metascope
 * claims, `jti` never reused), so service credentials work with any OAuth client. A bad assertion
 * is `invalid_grant`. `scope`, when
 * given, narrows the token to some of the JWT's metascopes.
 */
export async function jwtBearerGrant(
  deps: ExchangeDeps,
  integration: Integration,
  fields: { assertion?: string | undefined; scope?: string | undefined },
): Promise<TokenEndpointResponse> {
  const now = (deps.clock ?? Date.now)();
  let metascopes: string[];
  try {
    metascopes = await verifyExchangeJwt(deps, integration, fields.assertion, now, 'assertion');
  } catch (err) {
    // RFC 7523, section 3.1: a bad assertion is invalid_grant (the exchange's own codes are
    // Adobe's: invalid_token, invalid_signature, invalid_jti).
    if (err instanceof ImsError && err.code !== 'invalid_scope')
      throw new ImsError('invalid_grant', err.message);
    throw err;
  }
  const scopes = grantScopes(integration, fields.scope, metascopes, metascopes);
  return issueForIntegration(deps, integration, scopes, now, 'jwt-bearer');
}
