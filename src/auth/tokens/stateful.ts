import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TtlCache } from '../../cache/ttl-cache.js';
import { isCanonicalBase64url } from '../../crypto/base64url.js';
import { announce, CHANGE } from '../../farm/changes.js';
import type { RepositoryContext } from '../../repository/context.js';
import { ensureNode } from '../../repository/ensure-node.js';
import { fromStored, stringProperty, toStored } from '../../repository/properties.js';
import { userPath } from '../../repository/users/paths.js';
import type { Json, NodeRecord, StoreOps } from '../../store/types.js';

/**
 * Stateful tokens (the default, as AEM): a random 256-bit secret given to the client; the
 * repository keeps only a salted SHA-256 of it, with the expiry, under the user's `.tokens` node.
 * Only instances that share the store can validate it.
 *
 *     token = "s1." uid "." id "." secret
 *     uid = base64url of the user id; id = 32 hex digits (node name); secret = base64url, 32 bytes
 */
export const STATEFUL_PREFIX = 's1.';
const FORMAT = /^s1\.([A-Za-z0-9_-]{1,200})\.([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$/;

const tokensPath = (userId: string) => `${userPath(userId)}/.tokens`;

function hashSecret(secret: string, salt: Buffer): Buffer {
  return createHash('sha256').update(salt).update(secret).digest();
}

function expiryOf(node: NodeRecord): number {
  const v = fromStored(node.properties['rep:token.exp'] ?? null)?.values[0];
  return typeof v === 'string' ? Date.parse(v) : 0;
}

function tokenNode(
  path: string,
  secret: string,
  expiresAt: number,
  issuedAt: number,
  address: string | undefined,
): NodeRecord {
  const salt = randomBytes(16);
  const properties: Record<string, Json> = {
    'rep:token.key': toStored(
      stringProperty(
        `sha256:${salt.toString('base64url')}:${hashSecret(secret, salt).toString('base64url')}`,
      ),
    ),
    'rep:token.exp': toStored({
      type: 'Date',
      multiple: false,
      values: [new Date(expiresAt).toISOString()],
    }),
    'latchkey:issued': toStored({
      type: 'Date',
      multiple: false,
      values: [new Date(issuedAt).toISOString()],
    }),
  };
  if (address) properties['latchkey:address'] = toStored(stringProperty(address));
  return { path, primaryType: 'rep:Token', properties };
}

/**
 * Issues a token for an existing user; retires the oldest live tokens beyond `maxPerUser` and
 * removes expired ones.
 */
export async function issueStateful(
  ctx: RepositoryContext,
  userId: string,
  options: { now: number; lifetimeMs: number; maxPerUser: number; boundAddress?: string },
  cache?: StatefulTokenCache,
): Promise<string> {
  const id = randomBytes(16).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const retired = await ctx.store.transaction(async (tx) => {
    await ensureNode(tx, tokensPath(userId), 'rep:Unstructured', 'rep:Unstructured');
    await tx.putNode(
      tokenNode(
        `${tokensPath(userId)}/${id}`,
        secret,
        options.now + options.lifetimeMs,
        options.now,
        options.boundAddress,
      ),
    );
    return prune(tx, userId, options.now, options.maxPerUser);
  });
  if (retired.length > 0) {
    // Live tokens retired to make room: refused at once here, soon by the other processes.
    for (const path of retired) cache?.delete(path);
    await announce(ctx.store, CHANGE.loginTokens, userId);
  }
  return `s1.${Buffer.from(userId, 'utf8').toString('base64url')}.${id}.${secret}`;
}

/** Removes expired tokens and the oldest live ones beyond `maxPerUser`; returns the latter. */
async function prune(
  tx: StoreOps,
  userId: string,
  now: number,
  maxPerUser: number,
): Promise<string[]> {
  const tokens = await tx.listChildren(tokensPath(userId));
  const live: NodeRecord[] = [];
  for (const t of tokens) {
    if (expiryOf(t) <= now) await tx.deleteTree(t.path);
    else live.push(t);
  }
  // Creation order: the first ones are the oldest.
  const retired = live.slice(0, Math.max(0, live.length - maxPerUser)).map((t) => t.path);
  for (const path of retired) await tx.deleteTree(path);
  return retired;
}

export type StatefulResult =
  | {
      readonly ok: true;
      readonly userId: string;
      readonly path: string;
      readonly expiresAt: number;
      readonly issuedAt: number;
    }
  | { readonly ok: false; readonly reason: string };

/** What validation needs of a token node (its salted hash, never the secret). */
export interface StoredToken {
  readonly key: string;
  readonly expiresAt: number;
  readonly issuedAt: number | undefined;
  readonly boundAddress: string | undefined;
}

/**
 * Token nodes by path, as read from the store, so that a request with a known token reads
 * nothing: its secret is still checked against the salted hash on every request. A logout or a
 * retired token removes its entry here and announces it (`login-tokens`), on which the other
 * processes sharing the store drop theirs; ended sessions, password changes, disables and
 * deletes drop everything with the access cache's generation.
 */
export type StatefulTokenCache = TtlCache<string, StoredToken>;

function storedToken(node: NodeRecord): StoredToken {
  const key = fromStored(node.properties['rep:token.key'] ?? null)?.values[0];
  const issued = fromStored(node.properties['latchkey:issued'] ?? null)?.values[0];
  const bound = fromStored(node.properties['latchkey:address'] ?? null)?.values[0];
  return {
    key: typeof key === 'string' ? key : '',
    expiresAt: expiryOf(node),
    issuedAt: typeof issued === 'string' ? Date.parse(issued) : undefined,
    boundAddress: typeof bound === 'string' ? bound : undefined,
  };
}

const EXPIRED = 'stateful login-token expired';

interface Presented {
  readonly userId: string;
  readonly path: string;
  readonly secret: string;
}

function parse(token: string): Presented | { readonly reason: string } {
  const m = FORMAT.exec(token);
  if (!m) return { reason: 'malformed stateful login-token' };
  if (!isCanonicalBase64url(m[1]!) || !isCanonicalBase64url(m[3]!))
    return { reason: 'malformed stateful login-token (non-canonical base64url)' };
  const userId = Buffer.from(m[1]!, 'base64url').toString('utf8');
  return { userId, path: `${tokensPath(userId)}/${m[2]}`, secret: m[3]! };
}

/** The secret in constant time, then the expiry and a bound address. */
function check(
  presented: Presented,
  stored: StoredToken,
  now: number,
  address: string,
): StatefulResult {
  const [, salt, hash] = stored.key.split(':');
  const expected = Buffer.from(hash ?? '', 'base64url');
  const actual = hashSecret(presented.secret, Buffer.from(salt ?? '', 'base64url'));
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    return { ok: false, reason: 'stateful login-token has a wrong secret' };
  }
  if (stored.expiresAt <= now) return { ok: false, reason: EXPIRED };
  if (stored.boundAddress !== undefined && stored.boundAddress !== address) {
    return { ok: false, reason: 'stateful login-token is bound to another client address' };
  }
  return {
    ok: true,
    userId: presented.userId,
    path: presented.path,
    expiresAt: stored.expiresAt,
    issuedAt: stored.issuedAt ?? now,
  };
}

/**
 * {@link verifyStateful} without waiting, for a token whose node is cached and not past its
 * cached expiry; `undefined` when the store must be read.
 */
export function peekStateful(
  cache: StatefulTokenCache,
  token: string,
  now: number,
  address: string,
): StatefulResult | undefined {
  const presented = parse(token);
  if (!('path' in presented)) return undefined;
  const stored = cache.get(presented.path);
  if (!stored || stored.expiresAt <= now) return undefined;
  return check(presented, stored, now, address);
}

/**
 * Looks the token up (in `cache`, else in the store), checks the secret in constant time, the
 * expiry and a bound address. Whether its user exists and may still sign in is the caller's
 * check (the user status cache).
 */
export async function verifyStateful(
  ctx: RepositoryContext,
  token: string,
  now: number,
  address: string,
  cache?: StatefulTokenCache,
): Promise<StatefulResult> {
  const presented = parse(token);
  if (!('path' in presented)) return { ok: false, reason: presented.reason };
  const cached = cache?.get(presented.path);
  // A cached expiry that has passed is read again: another process may have extended it.
  if (cached && cached.expiresAt > now) return check(presented, cached, now, address);
  const ticket = cache?.ticket();
  const node = await ctx.store.getNode(presented.path);
  if (!node) {
    return {
      ok: false,
      reason:
        "stateful login-token not found in this instance's store: signed out, expired, its sessions ended (a password change, disable or end sessions), or issued by another instance (enable token.encapsulated for a farm)",
    };
  }
  const stored = storedToken(node);
  const result = check(presented, stored, now, address);
  if (!result.ok && result.reason === EXPIRED) {
    await ctx.store.deleteTree(presented.path);
    cache?.delete(presented.path);
    return { ok: false, reason: 'stateful login-token expired (removed)' };
  }
  // Kept only once its secret was presented: guessed ids fill no memory.
  if (result.ok && cache && ticket) cache.set(presented.path, stored, ticket);
  return result;
}

/** Sliding expiry: moves the token's expiry to `now + lifetimeMs`. */
export async function extendStateful(
  ctx: RepositoryContext,
  path: string,
  now: number,
  lifetimeMs: number,
  cache?: StatefulTokenCache,
): Promise<void> {
  await ctx.store.transaction(async (tx) => {
    const node = await tx.getNode(path);
    if (!node) return;
    await tx.putNode({
      ...node,
      properties: {
        ...node.properties,
        'rep:token.exp': toStored({
          type: 'Date',
          multiple: false,
          values: [new Date(now + lifetimeMs).toISOString()],
        }),
        'latchkey:issued': toStored({
          type: 'Date',
          multiple: false,
          values: [new Date(now).toISOString()],
        }),
      },
    });
  });
  // Read again by the next request: a logout meanwhile must not be undone by a cached copy.
  cache?.delete(path);
}

/**
 * Logout: removes the token (a token of another format or user is ignored), at once from this
 * process's cache and, through the change channel, from the others'.
 */
export async function revokeStateful(
  ctx: RepositoryContext,
  token: string,
  cache?: StatefulTokenCache,
): Promise<void> {
  const presented = parse(token);
  if (!('path' in presented)) return;
  await ctx.store.deleteTree(presented.path);
  cache?.delete(presented.path);
  await announce(ctx.store, CHANGE.loginTokens, presented.userId);
}
