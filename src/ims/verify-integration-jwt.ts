import { type KeyObject, X509Certificate } from 'node:crypto';
import { decodeProtectedHeader, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import { isCanonicalCompactJws } from '../crypto/base64url.js';
import { ImsError } from './errors.js';
import type { Integration } from './model.js';

/** Clock skew allowed on `exp`, `iat` and `nbf` of JWTs clients sign. */
export const SKEW_S = 30;

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

/**
 * Verifies a JWT signed with one of an integration's keys (RS256 only, whatever the header
 * says: a certificate's key is never used with another algorithm) and returns its claims. Used
 * for the exchange JWT, the RFC 7523 grant's assertion and `private_key_jwt` client assertions;
 * the callers check what the claims mean. Errors use `code` (`invalid_token` for the exchange,
 * `invalid_client` for client assertions) and name the JWT as `what`.
 */
export async function verifyIntegrationJwt(
  jwt: string,
  integration: Integration,
  options: { code: string; what: string; requiredClaims: readonly string[] },
): Promise<JWTPayload> {
  const { code, what } = options;
  if (!isCanonicalCompactJws(jwt)) throw new ImsError(code, `${what} is malformed`);
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(jwt).alg;
  } catch {
    throw new ImsError(code, `${what} is malformed`);
  }
  if (alg !== 'RS256') throw new ImsError(code, `${what} must be signed with RS256`);
  for (const pem of integration.certificates) {
    try {
      const { payload } = await jwtVerify(jwt, keyOf(pem), {
        algorithms: ['RS256'],
        clockTolerance: SKEW_S,
        requiredClaims: [...options.requiredClaims],
      });
      // Issued in the future: a clock far ahead, or a JWT made now to be used later.
      if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + SKEW_S)
        throw new ImsError(code, `${what} has an iat in the future`);
      return payload;
    } catch (err) {
      if (err instanceof ImsError) throw err;
      // Another certificate of the integration may match (certificate rotation).
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) continue;
      if (err instanceof joseErrors.JWTExpired) throw new ImsError(code, `${what} has expired`);
      if (err instanceof joseErrors.JWTClaimValidationFailed) {
        throw new ImsError(code, `${what} lacks or has a bad ${err.claim} claim`);
      }
      throw new ImsError(code, `${what} is malformed`);
    }
  }
  throw new ImsError(
    code === 'invalid_token' ? 'invalid_signature' : code,
    `${what} signature does not match any certificate of this integration`,
  );
}
