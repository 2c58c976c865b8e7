import type { RepositoryContext } from '../context.js';
import { readString } from '../properties.js';
import type { Subject } from '../subject.js';
import { burnPasswordCheck, verifyPassword } from './password.js';
import { findUser } from './paths.js';
import { subjectFor } from './subject-for.js';

/**
 * Checks a user id and password. Returns the user's {@link Subject}, or `undefined` for an unknown
 * user, a wrong password, a disabled user or a system user, all indistinguishable to the caller
 * and taking the same time.
 */
export async function authenticatePassword(
  ctx: RepositoryContext,
  userId: string,
  password: string,
): Promise<Subject | undefined> {
  const user = await findUser(ctx.store, userId);
  const hash = user ? readString(user.properties, 'rep:password') : undefined;
  if (!user || !hash) {
    await burnPasswordCheck(password, ctx.passwordHashCost);
    return undefined;
  }
  if (!(await verifyPassword(password, hash))) return undefined;
  if (readString(user.properties, 'rep:disabled') !== undefined) return undefined;
  return subjectFor(ctx, userId);
}
