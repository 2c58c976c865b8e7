import { audit } from '../../audit/record.js';
import { LatchkeyError, NotFoundError } from '../../errors.js';
import type { Json } from '../../store/types.js';
import type { RepositoryContext } from '../context.js';
import { requireAdmin } from '../require-admin.js';
import type { Subject } from '../subject.js';
import { ACL_NS, type Ace } from './types.js';

/** `POST <path>.deleteAce.json` with `:applyTo=<principal>` (repeatable). */
export async function deleteAces(
  ctx: RepositoryContext,
  actor: Subject,
  path: string,
  principals: readonly string[],
): Promise<void> {
  requireAdmin(actor, 'changing access control');
  if (principals.length === 0)
    throw new LatchkeyError('invalid_request', ':applyTo is required', 400);
  await ctx.store.transaction(async (tx) => {
    if (!(await tx.getNode(path))) throw new NotFoundError();
    const current = ((await tx.getRecord(ACL_NS, path))?.value ?? []) as unknown as Ace[];
    const next = current.filter((a) => !principals.includes(a.principal));
    if (next.length === 0) await tx.deleteRecord(ACL_NS, path);
    else await tx.putRecord(ACL_NS, path, next as unknown as Json);
  });
  await ctx.access.invalidate();
  await audit({
    type: 'acl.changed',
    actor: actor.userId,
    target: path,
    details: { removed: [...principals] },
  });
}
