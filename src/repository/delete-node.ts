import { NotFoundError } from '../errors.js';
import { ACL_NS } from './acl/types.js';
import type { RepositoryContext } from './context.js';
import { assertWritable } from './post-node.js';
import type { Subject } from './subject.js';

/** `:operation=delete`: removes a node, its subtree and the access-control lists stored there. */
export async function deleteNode(
  ctx: RepositoryContext,
  subject: Subject,
  path: string,
): Promise<void> {
  await assertWritable(ctx, subject, path);
  await ctx.store.transaction(async (tx) => {
    if ((await tx.deleteTree(path)) === 0) throw new NotFoundError();
    await tx.deleteRecord(ACL_NS, path);
    await tx.deleteRecords(ACL_NS, { prefix: `${path}/` });
  });
  ctx.access.invalidate();
}
