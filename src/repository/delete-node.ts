import { ForbiddenError, NotFoundError } from '../errors.js';
import { isAllowed } from './acl/evaluate.js';
import { ACL_NS } from './acl/types.js';
import type { RepositoryContext } from './context.js';
import { isSameOrDescendant } from './path.js';
import { assertWritable } from './post-node.js';
import type { Subject } from './subject.js';

/**
 * `:operation=delete`: removes a node, its subtree and the access-control lists stored there.
 *
 * Removing a node removes every node below it, so the subject needs read and write on every one
 * of them, not only on the node named: a user with write on `/content/site` but denied on
 * `/content/site/protected` must not take the protected subtree (and its ACLs) with it, nor a
 * subtree she cannot read. Refused whole (403, nothing changed) otherwise. Only nodes that carry
 * an ACL of their own can be decided differently from the node named (every other node inherits
 * its nearest such ancestor's decision), so those are the nodes checked: a deep subtree costs one
 * check per ACL inside it, not one per node.
 */
export async function deleteNode(
  ctx: RepositoryContext,
  subject: Subject,
  path: string,
): Promise<void> {
  await assertWritable(ctx, subject, path);
  const snapshot = await ctx.access.get();
  // Write without read on the node itself is no licence to remove what one cannot see.
  if (!isAllowed(snapshot, subject, path, 'jcr:read')) throw new NotFoundError();
  await ctx.store.transaction(async (tx) => {
    if (!subject.admin) {
      for (const aclPath of snapshot.aces.keys()) {
        if (aclPath === path || !isSameOrDescendant(aclPath, path)) continue;
        if (!(await tx.getNode(aclPath))) continue;
        if (
          !isAllowed(snapshot, subject, aclPath, 'jcr:read') ||
          !isAllowed(snapshot, subject, aclPath, 'jcr:write')
        ) {
          throw new ForbiddenError(
            'the subtree holds nodes you may not read or change; nothing was deleted',
          );
        }
      }
    }
    if ((await tx.deleteTree(path)) === 0) throw new NotFoundError();
    await tx.deleteRecord(ACL_NS, path);
    await tx.deleteRecords(ACL_NS, { prefix: `${path}/` });
  });
  ctx.access.invalidate();
}
