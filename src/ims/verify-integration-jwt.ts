import { type KeyObject, verify, X509Certificate } from 'node:crypto';
import { isCanonicalCompactJws } from '../crypto/base64url.js';
import { ImsError } from './errors.js';
import type { Integration } from './model.js';

/** Clock skew allowed on `exp`, `iat` and `nbf` of JWTs clients sign. */
export const SKEW_S = 30;

/** The claims of a verified client JWT (RFC 7519 registered ones typed, the rest as sent). */
export interface ClientJwtClaims {
  readonly iss?: unknown;
  readonly sub?: unknown;
  readonly aud?: unknown;
  readonly exp?: number;
  readonly nbf?: number;
  readonly iat?: number;
  readonly jti?: unknown;
  readonly [claim: string]: unknown;
}

/**
 * The public keys of an integration's certificates, imported once per integration record: the
 * client cache (client-cache.ts) keeps one record object until it changes, so its keys are
 * parsed from PEM once, not per request.
 */
const keysByRecord = new WeakMap<Integration, readonly KeyObject[]>();

export function certificateKeysOf(integration: Integration): readonly KeyObject[] {
  let keys = keysByRecord.get(integration);
  if (!keys) {
    keys = integration.certificates.flatMap((pem) => {
      try {
        return [new X509Certificate(pem).publicKey];
      } catch {
        return []; // a certificate that cannot be read verifies nothing
      }
    });
    keysByRecord.set(integration, keys);
  }
  return keys;
}

function parsed(part: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies a JWT signed with one of an integration's keys (RS256 only, whatever the header
 * says: a certificate's key is never used with another algorithm) and returns its claims. Used
 * for the exchange JWT, the RFC 7523 grant's assertion and `private_key_jwt` client assertions;
 * the callers check what the claims mean. The header and payload are parsed once and the
 * signature checked with `node:crypto` against keys imported once ({@link certificateKeysOf}).
 * Then, 30 s of skew allowed: `exp` not past, `nbf` not ahead, `iat` not ahead, the time claims
 * numbers, `requiredClaims` present. Errors use `code` (`invalid_token` for the exchange,
 * `invalid_client` for client assertions) and name the JWT as `what`.
 */
export function verifyIntegrationJwt(
  jwt: string,
  integration: Integration,
  options: { code: string; what: string; requiredClaims: readonly string[]; now?: number },
): ClientJwtClaims {
  const { code, what } = options;
  const malformed = () => new ImsError(code, `${what} is malformed`);
  if (jwt.length > 16_384 || !isCanonicalCompactJws(jwt)) throw malformed();
  const first = jwt.indexOf('.');
  const second = jwt.indexOf('.', first + 1);
  const header = parsed(jwt.slice(0, first));
  if (!header || typeof header['alg'] !== 'string') throw malformed();
  if (header['alg'] !== 'RS256') throw new ImsError(code, `${what} must be signed with RS256`);
  // Header members this verifier would have to understand (RFC 7515 4.1.11), unencoded payloads.
  if ('crit' in header || 'b64' in header) throw malformed();
  const payload = parsed(jwt.slice(first + 1, second));
  if (!payload) throw malformed();
  const signed = Buffer.from(jwt.slice(0, second));
  const signature = Buffer.from(jwt.slice(second + 1), 'base64url');
  // Another certificate of the integration may match (certificate rotation).
  const match = certificateKeysOf(integration).some((key) =>
    verify('sha256', signed, key, signature),
  );
  if (!match)
    throw new ImsError(
      code === 'invalid_token' ? 'invalid_signature' : code,
      `${what} signature does not match any certificate of this integration`,
    );
  const bad = (claim: string) => new ImsError(code, `${what} lacks or has a bad ${claim} claim`);
  const now = (options.now ?? Date.now()) / 1000;
  for (const claim of ['exp', 'nbf', 'iat'])
    if (claim in payload && typeof payload[claim] !== 'number') throw bad(claim);
  for (const claim of options.requiredClaims) if (!(claim in payload)) throw bad(claim);
  const { exp, nbf, iat } = payload as { exp?: number; nbf?: number; iat?: number };
  if (exp !== undefined && exp <= now - SKEW_S) throw new ImsError(code, `${what} has expired`);
  if (nbf !== undefined && nbf > now + SKEW_S) throw bad('nbf');
  // Issued in the future: a clock far ahead, or a JWT made now to be used later.
  if (iat !== undefined && iat > now + SKEW_S)
    throw new ImsError(code, `${what} has an iat in the future`);
  return payload as ClientJwtClaims;
}
