import { audit } from '../../audit/record.js';
import { LatchkeyError, NotFoundError } from '../../errors.js';
import type { RepositoryContext } from '../context.js';
import { stringProperty, toStored } from '../properties.js';
import { requireAdmin } from '../require-admin.js';
import type { Subject } from '../subject.js';
import { hashPassword } from './password.js';
import { findUser } from './paths.js';
import { endSessionsIn } from './sessions.js';

/**
 * Sets a user's password (administrators only) and ends the user's sessions: every login token
 * and IMS user token issued before the change stops working.
 */
export async function changePassword(
  ctx: RepositoryContext,
  actor: Subject,
  userId: string,
  password: string | undefined,
): Promise<void> {
  requireAdmin(actor, 'changing passwords');
  if (!password) throw new LatchkeyError('invalid_password', 'rep:password must not be empty', 400);
  const hash = await hashPassword(password, ctx.passwordHashCost);
  await ctx.store.transaction(async (tx) => {
    const user = await findUser(tx, userId);
    if (user?.primaryType !== 'rep:User') throw new NotFoundError('no such user');
    await endSessionsIn(
      tx,
      {
        ...user,
        properties: { ...user.properties, 'rep:password': toStored(stringProperty(hash)) },
      },
      Date.now(),
    );
  });
  await ctx.access.invalidate();
  await audit({ type: 'user.password-changed', actor: actor.userId, target: userId });
}
