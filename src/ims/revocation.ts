import { createHash } from 'node:crypto';
import { audit } from '../audit/record.js';
import { announce, CHANGE } from '../farm/changes.js';
import type { Store, StoreOps } from '../store/types.js';
import { ACCESS_TOKEN_LIFETIME_MS } from './access-token.js';
import { ImsError } from './errors.js';
import { type Integration, NS } from './model.js';
import type { TokenCheck } from './validate-token.js';

/**
 * Revocations, kept in the IMS store until nothing they cover can still be valid:
 * `jti:<jti>` until the token's expiry; `client:<client id>` (every token issued to the
 * integration up to that instant) and `user:<user id>` (every token issued for that IMS user up
 * to that instant: development tokens) for the longest token lifetime after it.
 */
export const REVOCATION_NS = 'ims.revocation';
const SKEW_MS = 60_000;

export interface RevocationList {
  readonly jtis: readonly string[];
  /** Client id → revocation time (ms): tokens issued up to then are revoked. */
  readonly clients: Readonly<Record<string, number>>;
  /** IMS user id → revocation time (ms): the user's tokens issued up to then are revoked. */
  readonly users: Readonly<Record<string, number>>;
}

/**
 * Every revocation is announced on the store's change channel: instances sharing the database
 * re-read the list at once (see `auth/bearer/revocations.ts`), the others at their next poll.
 */
export async function revokeTokenId(store: Store, jti: string, expiresAtMs: number): Promise<void> {
  await store.putRecord(REVOCATION_NS, `jti:${jti}`, Date.now(), {
    expiresAt: expiresAtMs + SKEW_MS,
  });
  await announce(store, CHANGE.revocation, `jti:${jti}`);
}

/**
 * RFC 7009 revocation (and Adobe's `invalidate_token/v2`) for an authenticated integration: a
 * valid token issued to that client is revoked until it expires; anything else (another client's
 * token, an expired, unknown or malformed one) is left alone and answered the same way.
 */
export async function revokeAccessToken(
  store: Store,
  integration: Integration,
  check: TokenCheck,
): Promise<void> {
  if (
    check.valid &&
    check.claims['client_id'] === integration.clientId &&
    typeof check.claims['jti'] === 'string'
  ) {
    await revokeTokenId(store, check.claims['jti'], Number(check.claims['exp']) * 1000);
    await audit({
      type: 'token.revoked',
      actor: integration.clientId,
      target: String(check.claims['user_id'] ?? integration.clientId),
      details: { kind: 'access', jti: check.claims['jti'], client_id: integration.clientId },
    });
  }
}

/**
 * Revokes an integration: its secret and certificates stop working at once, and every token
 * issued to it so far is revoked (on this IMS at once, on instances sharing the database within
 * a second, on the others at their next poll).
 */
export async function revokeIntegration(
  store: Store,
  clientId: string,
  now = Date.now(),
): Promise<void> {
  await store.transaction(async (tx) => {
    const integration = (await tx.getRecord(NS.integration, clientId))?.value as unknown as
      | Integration
      | undefined;
    if (!integration) throw new ImsError('invalid_client', `no integration ${clientId}`, 404);
    await tx.putRecord(NS.integration, clientId, { ...integration, revoked: true } as never);
    await tx.putRecord(REVOCATION_NS, `client:${clientId}`, now, {
      expiresAt: now + ACCESS_TOKEN_LIFETIME_MS + SKEW_MS,
    });
  });
  // IMS processes drop the client they cached (this one before this returns), then instances
  // learn the revocation.
  await announce(store, CHANGE.integration, clientId);
  await announce(store, CHANGE.revocation, `client:${clientId}`);
  await audit({ type: 'credentials.revoked', target: clientId });
}

/**
 * Revokes every token issued so far for an IMS user (its development tokens): on this IMS at
 * once, on instances sharing the database within a second, on the others at their next poll. Tokens issued afterwards are good.
 */
export async function revokeUserTokens(
  store: Store,
  userId: string,
  now = Date.now(),
): Promise<void> {
  await store.putRecord(REVOCATION_NS, `user:${userId}`, now, {
    expiresAt: now + ACCESS_TOKEN_LIFETIME_MS + SKEW_MS,
  });
  await announce(store, CHANGE.revocation, `user:${userId}`);
}

export async function readRevocations(store: StoreOps): Promise<RevocationList> {
  const jtis: string[] = [];
  // Maps, made own properties at the end: an id such as `__proto__` is kept like any other.
  const clients = new Map<string, number>();
  const users = new Map<string, number>();
  for (const r of await store.listRecords(REVOCATION_NS)) {
    if (r.key.startsWith('jti:')) jtis.push(r.key.slice(4));
    else if (r.key.startsWith('client:')) clients.set(r.key.slice(7), Number(r.value));
    else if (r.key.startsWith('user:')) users.set(r.key.slice(5), Number(r.value));
  }
  return { jtis, clients: Object.fromEntries(clients), users: Object.fromEntries(users) };
}

/** How `GET /ims/revocations` names a client or user id: SHA-256 of it, lowercase hex. */
export function revocationIdHash(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

/**
 * The list as `GET /ims/revocations` publishes it (unauthenticated: instances poll it without
 * credentials): client and user ids as {@link revocationIdHash}, so that it does not list who
 * was revoked when to anyone who asks. Instances hash a token's ids to compare them. Token ids
 * (`jti`, random) are published as they are.
 */
export function publishedRevocations(list: RevocationList): RevocationList {
  const hashed = (ids: Readonly<Record<string, number>>) =>
    Object.fromEntries(Object.entries(ids).map(([id, at]) => [revocationIdHash(id), at]));
  return { jtis: list.jtis, clients: hashed(list.clients), users: hashed(list.users) };
}

/** When a token was issued, in ms: IMS's `created_at` (ms), else `iat` (s). */
function issuedAtMs(claims: { iat?: unknown; created_at?: unknown }): number | undefined {
  if (typeof claims.created_at === 'string' && /^\d{1,15}$/.test(claims.created_at))
    return Number(claims.created_at);
  return typeof claims.iat === 'number' ? claims.iat * 1000 : undefined;
}

/** Whether a token's claims fall under a revocation list. */
export function isRevokedBy(
  list: RevocationList,
  claims: {
    jti?: unknown;
    client_id?: unknown;
    user_id?: unknown;
    iat?: unknown;
    created_at?: unknown;
  },
): boolean {
  if (typeof claims.jti === 'string' && list.jtis.includes(claims.jti)) return true;
  const issued = issuedAtMs(claims);
  if (issued === undefined) return false;
  const client =
    typeof claims.client_id === 'string' && Object.hasOwn(list.clients, claims.client_id)
      ? list.clients[claims.client_id]
      : undefined;
  // A client's revocation time is compared at second precision, as `iat`, conservatively.
  if (client !== undefined && typeof claims.iat === 'number' && claims.iat * 1000 <= client)
    return true;
  const users = list.users ?? {};
  const user =
    typeof claims.user_id === 'string' && Object.hasOwn(users, claims.user_id)
      ? users[claims.user_id]
      : undefined;
  return user !== undefined && issued <= user;
}
