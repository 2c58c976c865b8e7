import type { AccessSnapshot } from '../acl/cache.js';
import type { RepositoryContext } from '../context.js';
import { makeSubject, type Subject } from '../subject.js';

/** Subjects built from one snapshot; a new snapshot (any change) starts afresh. */
const memo = new WeakMap<AccessSnapshot, Map<string, Subject>>();

/** The subject of an existing user: the user, its groups (transitively) and `everyone`. */
export async function subjectFor(ctx: RepositoryContext, userId: string): Promise<Subject> {
  return subjectIn(await ctx.access.get(), userId);
}

/** {@link subjectFor} without waiting, while the access snapshot is fresh. */
export function peekSubject(ctx: RepositoryContext, userId: string): Subject | undefined {
  const snapshot = ctx.access.peek();
  return snapshot ? subjectIn(snapshot, userId) : undefined;
}

function subjectIn(snapshot: AccessSnapshot, userId: string): Subject {
  let subjects = memo.get(snapshot);
  if (!subjects) {
    subjects = new Map();
    memo.set(snapshot, subjects);
  }
  let subject = subjects.get(userId);
  if (!subject) {
    subject = makeSubject(userId, snapshot.groupsOf(userId));
    if (subjects.size < 100_000) subjects.set(userId, subject);
  }
  return subject;
}
