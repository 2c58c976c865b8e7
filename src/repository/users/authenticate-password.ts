import type { RepositoryContext } from '../context.js';
import { readString, stringProperty, toStored } from '../properties.js';
import type { Subject } from '../subject.js';
import { burnPasswordCheck, hashCost, hashPassword, verifyPassword } from './password.js';
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
  if (hashCost(hash) !== ctx.passwordHashCost) await rehash(ctx, userId, hash, password);
  return subjectFor(ctx, userId);
}

/**
 * Replaces the user's password hash by one at the configured cost, unless the password changed
 * meanwhile. The same password: sessions go on. A failure (hashing busy, store) leaves the old
 * hash for the next sign-in; the sign-in itself succeeds.
 */
async function rehash(
  ctx: RepositoryContext,
  userId: string,
  old: string,
  password: string,
): Promise<void> {
  try {
    const hash = await hashPassword(password, ctx.passwordHashCost);
    await ctx.store.transaction(async (tx) => {
      const user = await findUser(tx, userId);
      if (!user || readString(user.properties, 'rep:password') !== old) return;
      await tx.putNode({
        ...user,
        properties: { ...user.properties, 'rep:password': toStored(stringProperty(hash)) },
      });
    });
  } catch {
    // Kept as it was: the next successful sign-in tries again.
  }
}
