import { audit } from '../../audit/record.js';
import { NotFoundError } from '../../errors.js';
import type { Json, NodeRecord, StoreOps } from '../../store/types.js';
import type { RepositoryContext } from '../context.js';
import { fromStored, toStored } from '../properties.js';
import { requireAdmin } from '../require-admin.js';
import type { Subject } from '../subject.js';
import { findUser } from './paths.js';

/**
 * When the user's sessions start to count: every login token (stateful or encapsulated) and IMS
 * user token issued before this instant is refused. Set when a user is created with the id of a
 * deleted one (so it inherits no session of the old one), when the password changes,
 * when the user is disabled, and when an administrator ends the user's sessions.
 */
export const SESSIONS_VALID_AFTER = 'latchkey:sessionsValidAfter';

/** Store records `<user id>` → when a user of that id was last deleted (ms). */
export const DELETED_NS = 'users.deleted';

/** The user's `SESSIONS_VALID_AFTER` in ms (0: never set, every session counts). */
export function sessionsValidAfter(user: NodeRecord): number {
  const v = fromStored(user.properties[SESSIONS_VALID_AFTER] ?? null)?.values[0];
  const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  return Number.isFinite(ms) ? ms : 0;
}

export function validAfterProperty(now: number): Json {
  return toStored({ type: 'Date', multiple: false, values: [new Date(now).toISOString()] });
}

/**
 * Inside a transaction: ends every session of `user` (a user node) as of `now`: its stateful
 * tokens are removed from the store, and tokens that live only in clients (encapsulated, IMS)
 * are refused from `now` on. Returns the node as written.
 */
export async function endSessionsIn(
  tx: StoreOps,
  user: NodeRecord,
  now: number,
): Promise<NodeRecord> {
  const next: NodeRecord = {
    ...user,
    properties: { ...user.properties, [SESSIONS_VALID_AFTER]: validAfterProperty(now) },
  };
  await tx.putNode(next);
  await tx.deleteTree(`${user.path}/.tokens`);
  return next;
}

/**
 * Ends all sessions of a user (`endSessions` posted to the user's path, or
 * `latchkey users logout ID`). Administrators only. Applies at once on this instance, and on
 * other instances sharing the store within `tokens.userCacheMs`.
 */
export async function endSessions(
  ctx: RepositoryContext,
  actor: Subject,
  userId: string,
  now = Date.now(),
): Promise<void> {
  requireAdmin(actor, 'ending sessions');
  await ctx.store.transaction(async (tx) => {
    const user = await findUser(tx, userId);
    if (!user) throw new NotFoundError('no such user');
    await endSessionsIn(tx, user, now);
  });
  await ctx.access.invalidate(userId);
  await audit({ type: 'user.sessions-ended', actor: actor.userId, target: userId });
}
