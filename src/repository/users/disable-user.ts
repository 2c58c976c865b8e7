import { audit } from '../../audit/record.js';
import { ForbiddenError, NotFoundError } from '../../errors.js';
import type { RepositoryContext } from '../context.js';
import { stringProperty, toStored } from '../properties.js';
import { requireAdmin } from '../require-admin.js';
import { ADMIN_ID, type Subject } from '../subject.js';
import { findUser } from './paths.js';
import { endSessionsIn } from './sessions.js';

/**
 * `disableUser=<reason>` posted to a user's path disables the user (no login, no token);
 * an empty reason enables it again. Administrators only; `admin` cannot be disabled.
 */
export async function disableUser(
  ctx: RepositoryContext,
  actor: Subject,
  userId: string,
  reason: string,
): Promise<void> {
  requireAdmin(actor, 'disabling users');
  if (userId === ADMIN_ID) throw new ForbiddenError('admin cannot be disabled');
  await ctx.store.transaction(async (tx) => {
    const user = await findUser(tx, userId);
    if (!user) throw new NotFoundError('no such user');
    const { 'rep:disabled': _old, ...rest } = user.properties;
    const properties =
      reason === '' ? rest : { ...rest, 'rep:disabled': toStored(stringProperty(reason)) };
    // Disabling ends the user's sessions; enabling again revives none of them.
    if (reason === '') await tx.putNode({ ...user, properties });
    else await endSessionsIn(tx, { ...user, properties }, Date.now());
  });
  await ctx.access.invalidate(userId);
  await audit(
    reason === ''
      ? { type: 'user.enabled', actor: actor.userId, target: userId }
      : { type: 'user.disabled', actor: actor.userId, target: userId, details: { reason } },
  );
}
