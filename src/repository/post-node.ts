import { ForbiddenError, LatchkeyError, NotFoundError, UnauthorizedError } from '../errors.js';
import type { Json } from '../store/types.js';
import { isAllowed } from './acl/evaluate.js';
import type { RepositoryContext } from './context.js';
import { ensureNode } from './ensure-node.js';
import { setOwn, toStored } from './properties.js';
import type { NodeChanges } from './sling-post-form.js';
import type { Subject } from './subject.js';
import { isProtectedPath } from './system-paths.js';

export interface PostResult {
  readonly created: boolean;
  readonly changes: readonly { type: 'created' | 'modified' | 'deleted'; argument: string }[];
}

/** Refuses a write the subject may not make: 404 if it may not even read, 401/403 otherwise. */
export async function assertWritable(
  ctx: RepositoryContext,
  subject: Subject,
  path: string,
): Promise<void> {
  // The system roots (see system-paths.ts) are latchkey's own, whatever an ACL grants.
  if (isProtectedPath(path)) {
    throw new ForbiddenError(`${path === '/' ? 'the root node' : path} cannot be changed this way`);
  }
  const snapshot = await ctx.access.get();
  if (isAllowed(snapshot, subject, path, 'jcr:write')) return;
  if (subject.anonymous) throw new UnauthorizedError();
  if (!isAllowed(snapshot, subject, path, 'jcr:read')) throw new NotFoundError();
  throw new ForbiddenError('no write access to this node');
}

/**
 * Creates or modifies the node at `path` (and missing ancestors), as a Sling POST does.
 */
export async function postNode(
  ctx: RepositoryContext,
  subject: Subject,
  path: string,
  changes: NodeChanges,
): Promise<PostResult> {
  await assertWritable(ctx, subject, path);
  return ctx.store.transaction(async (tx) => {
    const { node, created } = await ensureNode(tx, path, changes.primaryType ?? 'nt:unstructured');
    if (!created && changes.primaryType !== undefined && changes.primaryType !== node.primaryType) {
      throw new LatchkeyError(
        'invalid_property',
        'jcr:primaryType of an existing node cannot change',
        400,
      );
    }
    const log: { type: 'created' | 'modified' | 'deleted'; argument: string }[] = [];
    if (created) log.push({ type: 'created', argument: path });
    const properties: Record<string, Json> = { ...node.properties };
    for (const name of changes.remove) {
      if (Object.hasOwn(properties, name)) {
        delete properties[name];
        log.push({ type: 'deleted', argument: `${path}/${name}` });
      }
    }
    for (const [name, property] of changes.set) {
      setOwn(properties, name, toStored(property));
      log.push({ type: 'modified', argument: `${path}/${name}` });
    }
    await tx.putNode({ ...node, properties });
    return { created, changes: log };
  });
}
