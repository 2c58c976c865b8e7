import { createHash, timingSafeEqual } from 'node:crypto';
import { setAuditActor } from '../audit/record.js';
import { LatchkeyError } from '../errors.js';
import type { StoreOps } from '../store/types.js';
import { type CachedClient, type ClientCache, readClient } from './client-cache.js';
import { ImsError } from './errors.js';
import { type Integration, NS } from './model.js';
import { SKEW_S, verifyIntegrationJwt } from './verify-integration-jwt.js';

/** The client authentication methods of the token, revocation and introspection endpoints. */
export const CLIENT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

/** Signature algorithms accepted on `private_key_jwt` client assertions (integration keys are RSA). */
export const CLIENT_ASSERTION_ALGS = ['RS256'] as const;

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Furthest ahead a client assertion's `exp` may be: its `jti` is remembered until then. */
const MAX_ASSERTION_LIFETIME_S = 3600;

/** What a request presents to authenticate its client (see http/presented-client.ts). */
export type PresentedClient =
  | {
      readonly method: 'client_secret_basic' | 'client_secret_post';
      readonly clientId: string | undefined;
      readonly clientSecret: string | undefined;
    }
  | {
      readonly method: 'private_key_jwt';
      readonly clientId: string | undefined;
      readonly assertion: string;
    }
  | { readonly method: 'none'; readonly clientId: string | undefined };

export interface ClientAuthDeps {
  readonly store: StoreOps;
  /** Authenticated clients kept until they change; without it, each request reads the store. */
  readonly clients?: ClientCache | undefined;
  readonly clock?: () => number;
}

/**
 * The error for a failed client authentication: `invalid_client`, 400 as Adobe's IMS answers for
 * credentials in the body, but 401 with a `WWW-Authenticate` challenge when the client tried HTTP
 * Basic (RFC 6749, section 5.2).
 */
export function clientAuthError(method: PresentedClient['method'], description: string) {
  return method === 'client_secret_basic'
    ? new LatchkeyError('invalid_client', description, 401, {
        'www-authenticate': 'Basic realm="ims", charset="UTF-8"',
      })
    : new ImsError('invalid_client', description);
}

function secretMatches(secret: string, client: CachedClient): boolean {
  const actual = createHash('sha256').update(client.secretSalt).update(secret).digest();
  return client.secretHash.length === actual.length && timingSafeEqual(client.secretHash, actual);
}

async function integrationOf(
  deps: ClientAuthDeps,
  clientId: string | undefined,
  method: PresentedClient['method'],
): Promise<CachedClient> {
  const client = clientId
    ? await (deps.clients ? deps.clients.get(clientId) : readClient(deps.store, clientId))
    : undefined;
  if (!client) throw clientAuthError(method, 'invalid client_id parameter');
  return client;
}

/**
 * Authenticates a client by whichever method it used and returns its integration: the one place
 * where client credentials are checked, for every endpoint that takes them.
 *
 * - `client_secret_basic`, `client_secret_post`: the secret against its salted hash.
 * - `private_key_jwt` (RFC 7523, section 2.2): a JWT signed RS256 with one of the integration's
 *   keys, `iss` = `sub` = the client id, `aud` naming this IMS (one of `audiences`: its issuer or
 *   the URL of the endpoint), `exp` at most an hour ahead, and a `jti` never seen before (kept in
 *   the replay cache until the assertion expires, shared by every IMS process of the store).
 *
 * Failures are `invalid_client` (see {@link clientAuthError}) with Adobe's descriptions: `invalid
 * client_id parameter` (missing, unknown or revoked), `invalid client_secret parameter` (wrong or
 * missing secret).
 */
export async function authenticateClient(
  deps: ClientAuthDeps,
  presented: PresentedClient,
  audiences: readonly string[],
): Promise<Integration> {
  const integration = await checkClient(deps, presented, audiences);
  // What the request does from here, it does as this client.
  setAuditActor(integration.clientId);
  return integration;
}

async function checkClient(
  deps: ClientAuthDeps,
  presented: PresentedClient,
  audiences: readonly string[],
): Promise<Integration> {
  switch (presented.method) {
    case 'none':
    case 'client_secret_basic':
    case 'client_secret_post': {
      const client = await integrationOf(deps, presented.clientId, presented.method);
      const secret = presented.method === 'none' ? undefined : presented.clientSecret;
      if (!secret || !secretMatches(secret, client))
        throw clientAuthError(presented.method, 'invalid client_secret parameter');
      return client.integration;
    }
    case 'private_key_jwt':
      return authenticateAssertion(deps, presented, audiences);
  }
}

async function authenticateAssertion(
  deps: ClientAuthDeps,
  presented: { clientId: string | undefined; assertion: string },
  audiences: readonly string[],
): Promise<Integration> {
  const fail = (description: string) => new ImsError('invalid_client', description);
  // The client it names, to find its keys: the claims are verified next.
  let unverified: Record<string, unknown>;
  try {
    const payload = presented.assertion.split('.')[1] ?? '';
    unverified = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (typeof unverified !== 'object' || unverified === null) throw new Error('not an object');
  } catch {
    throw fail('client_assertion is malformed');
  }
  const clientId = presented.clientId ?? unverified['sub'];
  if (typeof clientId !== 'string' || unverified['sub'] !== clientId)
    throw fail('client_assertion sub must be the client_id');
  const { integration } = await integrationOf(deps, clientId, 'private_key_jwt');
  const claims = verifyIntegrationJwt(presented.assertion, integration, {
    code: 'invalid_client',
    what: 'client_assertion',
    requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
  });
  if (claims.iss !== clientId || claims.sub !== clientId)
    throw fail('client_assertion iss and sub must be the client_id');
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.some((a) => typeof a === 'string' && audiences.includes(a)))
    throw fail(`client_assertion aud must name this IMS: ${audiences.join(' or ')}`);
  const now = (deps.clock ?? Date.now)();
  const exp = claims.exp!;
  if (exp * 1000 > now + (MAX_ASSERTION_LIFETIME_S + SKEW_S) * 1000)
    throw fail('client_assertion expires more than an hour ahead');
  if (typeof claims.jti !== 'string' || claims.jti === '' || claims.jti.length > 256)
    throw fail('client_assertion jti must be a non-empty string');
  const fresh = await deps.store.insertRecord(NS.jti, `${clientId}:assertion:${claims.jti}`, now, {
    expiresAt: (exp + SKEW_S) * 1000,
  });
  if (!fresh) throw fail('client_assertion jti was used already');
  return integration;
}
