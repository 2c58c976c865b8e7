import { isCanonicalBase64 } from '../crypto/base64url.js';
import { LatchkeyError } from '../errors.js';
import {
  CLIENT_ASSERTION_TYPE,
  clientAuthError,
  type PresentedClient,
} from '../ims/authenticate-client.js';

/** RFC 6749 appendix B: Basic credentials are form-urlencoded before base64. */
function formDecode(text: string): string {
  return decodeURIComponent(text.replace(/\+/g, '%20'));
}

function invalidRequest(description: string) {
  return new LatchkeyError('invalid_request', description, 400);
}

/**
 * Reads which client authentication a request presents: HTTP Basic (`client_secret_basic`),
 * `client_id` and `client_secret` fields (`client_secret_post`), or `client_assertion_type` and
 * `client_assertion` (`private_key_jwt`). More than one method in one request is refused
 * (RFC 6749, section 2.3). A Bearer `Authorization` header is not client authentication and is
 * left to the endpoint.
 */
export function presentedClient(
  authorization: string | undefined,
  field: (name: string) => string | undefined,
): PresentedClient {
  const clientId = field('client_id');
  const secret = field('client_secret');
  const assertionType = field('client_assertion_type');
  const assertion = field('client_assertion');
  if (authorization && /^basic /i.test(authorization)) {
    let decoded: string;
    let user: string;
    let password: string;
    const encoded = authorization.slice(6).trim();
    // One spelling only, as for Basic credentials on instances (see crypto/base64url.ts).
    if (encoded === '' || encoded.length > 4096 || !isCanonicalBase64(encoded))
      throw clientAuthError('client_secret_basic', 'malformed Basic credentials');
    try {
      decoded = Buffer.from(encoded, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new Error('no colon');
      user = formDecode(decoded.slice(0, colon));
      password = formDecode(decoded.slice(colon + 1));
    } catch {
      throw clientAuthError('client_secret_basic', 'malformed Basic credentials');
    }
    if (secret !== undefined || assertion !== undefined || assertionType !== undefined)
      throw invalidRequest('use one client authentication method per request, not several');
    if (clientId !== undefined && clientId !== user)
      throw invalidRequest('client_id differs from the client of the Authorization header');
    return { method: 'client_secret_basic', clientId: user, clientSecret: password };
  }
  if (assertion !== undefined || assertionType !== undefined) {
    if (assertionType !== CLIENT_ASSERTION_TYPE)
      throw invalidRequest(`client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
    if (!assertion) throw invalidRequest('client_assertion is missing');
    if (secret !== undefined)
      throw invalidRequest('use one client authentication method per request, not several');
    return { method: 'private_key_jwt', clientId, assertion };
  }
  if (secret !== undefined) return { method: 'client_secret_post', clientId, clientSecret: secret };
  return { method: 'none', clientId };
}
