import type { RepositoryContext } from '../context.js';
import { makeSubject, type Subject } from '../subject.js';

/** The subject of an existing user: the user, its groups (transitively) and `everyone`. */
export async function subjectFor(ctx: RepositoryContext, userId: string): Promise<Subject> {
  const snapshot = await ctx.access.get();
  return makeSubject(userId, snapshot.groupsOf(userId));
}
