import type { Integration } from './model.js';
import type { TokenCheck } from './validate-token.js';

/**
 * RFC 7662 token introspection for an authenticated integration: `{"active":true,…}` with the
 * token's standard claims for a valid token issued to that client; `{"active":false}` for
 * anything else (expired, revoked, malformed, or another client's token: a client learns nothing
 * about tokens that are not its own).
 */
export function introspect(integration: Integration, check: TokenCheck): Record<string, unknown> {
  if (!check.valid || check.claims['client_id'] !== integration.clientId) return { active: false };
  const c = check.claims;
  return {
    active: true,
    client_id: c['client_id'],
    // RFC 7662 scopes are space-separated; IMS tokens carry them comma-separated.
    scope: String(c['scope'] ?? '')
      .split(',')
      .filter(Boolean)
      .join(' '),
    token_type: 'Bearer',
    sub: c['user_id'],
    iss: c['iss'],
    exp: c['exp'],
    iat: c['iat'],
    jti: c['jti'],
  };
}
