import { CLIENT_ASSERTION_ALGS, CLIENT_AUTH_METHODS } from './authenticate-client.js';
import { IDENTITY_SCOPES } from './client-credentials.js';
import { JWT_BEARER_GRANT } from './jwt-bearer-grant.js';
import type { PublicUrl } from './public-url.js';

/** Paths of the endpoints the metadata names, below the public URL. */
export const ENDPOINT_PATHS = {
  authorization: '/ims/authorize/v2',
  token: '/ims/token/v3',
  jwks: '/ims/keys',
  userinfo: '/ims/profile/v1',
  revocation: '/ims/revoke',
  introspection: '/ims/introspect',
} as const;

/**
 * The authorization server's metadata, served unchanged at the OpenID Discovery location
 * (`/ims/.well-known/openid-configuration`) and the RFC 8414 one
 * (`/.well-known/oauth-authorization-server/ims`), so the two can never disagree. It names only
 * what works: three client authentication methods on every endpoint that authenticates clients,
 * the `client_credentials` and RFC 7523 `jwt-bearer` grants, revocation, introspection and
 * userinfo. The IMS has no interactive sign-in: no response type is supported (the authorization
 * endpoint, which OpenID Discovery requires, answers `unsupported_response_type`) and no ID token
 * is issued (`id_token_signing_alg_values_supported` holds the RS256 that OpenID Discovery
 * requires it to name).
 */
export function authorizationServerMetadata(
  publicUrl: PublicUrl,
  metascopes: readonly string[],
): Record<string, unknown> {
  const at = (path: string) => `${publicUrl.url}${path}`;
  const methods = [...CLIENT_AUTH_METHODS];
  const algs = [...CLIENT_ASSERTION_ALGS];
  return {
    issuer: publicUrl.issuer,
    authorization_endpoint: at(ENDPOINT_PATHS.authorization),
    token_endpoint: at(ENDPOINT_PATHS.token),
    jwks_uri: at(ENDPOINT_PATHS.jwks),
    userinfo_endpoint: at(ENDPOINT_PATHS.userinfo),
    revocation_endpoint: at(ENDPOINT_PATHS.revocation),
    introspection_endpoint: at(ENDPOINT_PATHS.introspection),
    scopes_supported: [...new Set([...IDENTITY_SCOPES, ...metascopes])],
    response_types_supported: [],
    // Said explicitly: left out, both documents' defaults would claim support for them.
    response_modes_supported: [],
    request_uri_parameter_supported: false,
    grant_types_supported: ['client_credentials', JWT_BEARER_GRANT],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: methods,
    token_endpoint_auth_signing_alg_values_supported: algs,
    revocation_endpoint_auth_methods_supported: methods,
    revocation_endpoint_auth_signing_alg_values_supported: algs,
    introspection_endpoint_auth_methods_supported: methods,
    introspection_endpoint_auth_signing_alg_values_supported: algs,
    claims_supported: ['sub', 'userId', 'account_type', 'client_id'],
  };
}
