import { ancestorsAndSelf } from '../path.js';
import type { Subject } from '../subject.js';
import { isAdminOnlyPath } from '../system-paths.js';
import type { AccessSnapshot } from './cache.js';
import { covers, type Privilege } from './types.js';

/**
 * Whether `subject` holds `privilege` on `path`. Administrators hold everything. Otherwise the
 * nearest node, from `path` up to the root, with an entry for one of the subject's principals
 * that mentions the privilege decides; within one node, later entries override earlier ones.
 * With no such entry anywhere, access is denied. The admin-only subtrees (`/etc/key`,
 * `/conf/latchkey`: see system-paths.ts) are denied to everyone else whatever the entries say.
 *
 * @example
 * ```ts
 * if (!isAllowed(await ctx.access.get(), subject, '/content/site', 'jcr:read')) throw new NotFoundError();
 * ```
 */
export function isAllowed(
  snapshot: AccessSnapshot,
  subject: Subject,
  path: string,
  privilege: Privilege,
): boolean {
  if (subject.admin) return true;
  // Key material and latchkey's configurations: no ACL opens them to anyone else.
  if (isAdminOnlyPath(path)) return false;
  const chain = ancestorsAndSelf(path);
  for (let i = chain.length - 1; i >= 0; i--) {
    const aces = snapshot.aces.get(chain[i]!);
    if (!aces) continue;
    for (let j = aces.length - 1; j >= 0; j--) {
      const ace = aces[j]!;
      if (subject.principals.has(ace.principal) && covers(ace.privileges, privilege))
        return ace.allow;
    }
  }
  return false;
}
