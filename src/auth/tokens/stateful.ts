import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isCanonicalBase64url } from '../../crypto/base64url.js';
import type { RepositoryContext } from '../../repository/context.js';
import { ensureNode } from '../../repository/ensure-node.js';
import { fromStored, stringProperty, toStored } from '../../repository/properties.js';
import { findUser, userPath } from '../../repository/users/paths.js';
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
): Promise<string> {
  const id = randomBytes(16).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  await ctx.store.transaction(async (tx) => {
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
    await prune(tx, userId, options.now, options.maxPerUser);
  });
  return `s1.${Buffer.from(userId, 'utf8').toString('base64url')}.${id}.${secret}`;
}

async function prune(tx: StoreOps, userId: string, now: number, maxPerUser: number): Promise<void> {
  const tokens = await tx.listChildren(tokensPath(userId));
  const live: NodeRecord[] = [];
  for (const t of tokens) {
    if (expiryOf(t) <= now) await tx.deleteTree(t.path);
    else live.push(t);
  }
  // Creation order: the first ones are the oldest.
  for (const t of live.slice(0, Math.max(0, live.length - maxPerUser))) await tx.deleteTree(t.path);
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

/** Looks the token up, checks the secret in constant time, the expiry and a bound address. */
export async function verifyStateful(
  ctx: RepositoryContext,
  token: string,
  now: number,
  address: string,
): Promise<StatefulResult> {
  const m = FORMAT.exec(token);
  if (!m) return { ok: false, reason: 'malformed stateful login-token' };
  if (!isCanonicalBase64url(m[1]!) || !isCanonicalBase64url(m[3]!))
    return { ok: false, reason: 'malformed stateful login-token (non-canonical base64url)' };
  const userId = Buffer.from(m[1]!, 'base64url').toString('utf8');
  const path = `${tokensPath(userId)}/${m[2]}`;
  const node = await ctx.store.getNode(path);
  if (!node) {
    return {
      ok: false,
      reason:
        "stateful login-token not found in this instance's store: signed out, expired, its sessions ended (a password change, disable or end sessions), or issued by another instance (enable token.encapsulated for a farm)",
    };
  }
  const stored = fromStored(node.properties['rep:token.key'] ?? null)?.values[0];
  const [, salt, hash] = typeof stored === 'string' ? stored.split(':') : [];
  const expected = Buffer.from(hash ?? '', 'base64url');
  const actual = hashSecret(m[3]!, Buffer.from(salt ?? '', 'base64url'));
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    return { ok: false, reason: 'stateful login-token has a wrong secret' };
  }
  const expiresAt = expiryOf(node);
  if (expiresAt <= now) {
    await ctx.store.deleteTree(path);
    return { ok: false, reason: 'stateful login-token expired (removed)' };
  }
  const bound = fromStored(node.properties['latchkey:address'] ?? null)?.values[0];
  if (typeof bound === 'string' && bound !== address) {
    return { ok: false, reason: 'stateful login-token is bound to another client address' };
  }
  if (!(await findUser(ctx.store, userId)))
    return { ok: false, reason: `user ${userId} does not exist on this instance` };
  const issued = fromStored(node.properties['latchkey:issued'] ?? null)?.values[0];
  return {
    ok: true,
    userId,
    path,
    expiresAt,
    issuedAt: typeof issued === 'string' ? Date.parse(issued) : now,
  };
}

/** Sliding expiry: moves the token's expiry to `now + lifetimeMs`. */
export async function extendStateful(
  ctx: RepositoryContext,
  path: string,
  now: number,
  lifetimeMs: number,
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
}

/** Logout: removes the token (a token of another format or user is ignored). */
export async function revokeStateful(ctx: RepositoryContext, token: string): Promise<void> {
  const m = FORMAT.exec(token);
  if (!m) return;
  const userId = Buffer.from(m[1]!, 'base64url').toString('utf8');
  await ctx.store.deleteTree(`${tokensPath(userId)}/${m[2]}`);
}
