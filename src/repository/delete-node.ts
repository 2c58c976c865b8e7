import { ForbiddenError, NotFoundError } from '../errors.js';
import { isAllowed } from './acl/evaluate.js';
import { ACL_NS, type Privilege } from './acl/types.js';
import type { RepositoryContext } from './context.js';
import { isSameOrDescendant, parentPath } from './path.js';
import { assertWritable } from './post-node.js';
import type { Subject } from './subject.js';
import { holdsProtectedPath } from './system-paths.js';

/**
 * `:operation=delete`: removes a node, its subtree and the access-control lists stored there.
 *
 * Removing a node changes everything it affects, so, as JCR asks (remove node, remove child
 * nodes, modify access control), the subject needs:
 * - read and write on every node removed: a user with write on `/content/site` but denied on
 *   `/content/site/protected` must not take the protected subtree with it, nor a subtree she
 *   cannot read;
 * - write on the parent, which loses a child (write on `/content` alone does not remove
 *   `/content` from `/`);
 * - `jcr:modifyAccessControl` on every removed node that carries an ACL: removing it removes
 *   those entries (the ACL that granted her write included).
 * Refused whole (403, nothing changed) otherwise. A system root and every node that holds one
 * (`/`, `/etc`, `/conf`: see system-paths.ts) are never deleted, by administrators neither. Only nodes that carry an ACL of their own can
 * be decided differently from the node named (every other node inherits its nearest such
 * ancestor's decision), so those are the nodes checked: one check per ACL in the subtree.
 */
export async function deleteNode(
  ctx: RepositoryContext,
  subject: Subject,
  path: string,
): Promise<void> {
  await assertWritable(ctx, subject, path);
  // `/etc` holds the keys (`/etc/key`), `/conf` latchkey's configurations: whoever asks.
  if (holdsProtectedPath(path)) {
    throw new ForbiddenError(
      `${path} holds system nodes and cannot be deleted; nothing was deleted`,
    );
  }
  const snapshot = await ctx.access.get();
  const allowed = (p: string, privilege: Privilege) => isAllowed(snapshot, subject, p, privilege);
  // Write without read on the node itself is no licence to remove what one cannot see.
  if (!allowed(path, 'jcr:read')) throw new NotFoundError();
  if (!allowed(parentPath(path), 'jcr:write')) {
    throw new ForbiddenError(
      'removing a node needs write access to its parent; nothing was deleted',
    );
  }
  await ctx.store.transaction(async (tx) => {
    if (!subject.admin) {
      for (const aclPath of snapshot.aces.keys()) {
        if (!isSameOrDescendant(aclPath, path)) continue;
        if (!(await tx.getNode(aclPath))) continue;
        if (!allowed(aclPath, 'jcr:read') || !allowed(aclPath, 'jcr:write')) {
          throw new ForbiddenError(
            'the subtree holds nodes you may not read or change; nothing was deleted',
          );
        }
        if (!allowed(aclPath, 'jcr:modifyAccessControl')) {
          throw new ForbiddenError(
            `${aclPath === path ? 'the node' : 'the subtree'} holds access-control entries you may not change; nothing was deleted`,
          );
        }
      }
    }
    if ((await tx.deleteTree(path)) === 0) throw new NotFoundError();
    await tx.deleteRecord(ACL_NS, path);
    await tx.deleteRecords(ACL_NS, { prefix: `${path}/` });
  });
  await ctx.access.invalidate();
}
