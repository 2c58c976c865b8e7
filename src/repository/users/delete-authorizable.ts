import { audit } from '../../audit/record.js';
import { ForbiddenError, NotFoundError } from '../../errors.js';
import type { NodeRecord, StoreOps } from '../../store/types.js';
import { ACL_NS } from '../acl/types.js';
import type { RepositoryContext } from '../context.js';
import { readString, readStrings, stringProperty, toStored } from '../properties.js';
import { requireAdmin } from '../require-admin.js';
import { ADMIN_ID, ADMINISTRATORS, type Subject } from '../subject.js';
import { GROUP_TYPE, GROUPS_ROOT, isAuthorizable, USER_TYPES } from './paths.js';
import { DELETED_NS } from './sessions.js';

/**
 * `deleteAuthorizable` posted to a user's or group's path. Administrators only; `admin`,
 * `administrators` and the caller's own user cannot be deleted. The authorizable leaves every
 * group it belonged to, and the access-control entries stored on its node go with it.
 */
export async function deleteAuthorizable(
  ctx: RepositoryContext,
  actor: Subject,
  path: string,
): Promise<string> {
  requireAdmin(actor, 'deleting users and groups');
  const { id, user } = await ctx.store.transaction(async (tx) => {
    const node = await tx.getNode(path);
    if (!node || !isAuthorizable(node)) throw new NotFoundError('no user or group at this path');
    const id = readString(node.properties, 'rep:authorizableId') ?? '';
    if (id === ADMIN_ID || id === ADMINISTRATORS || id === actor.userId) {
      throw new ForbiddenError(`${id} cannot be deleted`);
    }
    await removeAuthorizable(tx, node, id);
    return { id, user: USER_TYPES.has(node.primaryType) };
  });
  await ctx.access.invalidate();
  await audit({ type: user ? 'user.deleted' : 'group.deleted', actor: actor.userId, target: id });
  return id;
}

/**
 * Removes a user or group inside a transaction: its node and subtree, the access-control entries
 * stored on them, and its membership in every group. A user's id is remembered as deleted, so
 * that a user created again with it starts with no session.
 */
export async function removeAuthorizable(
  tx: StoreOps,
  node: NodeRecord,
  id: string,
): Promise<void> {
  await tx.deleteTree(node.path);
  if (USER_TYPES.has(node.primaryType)) await tx.putRecord(DELETED_NS, id, Date.now());
  await tx.deleteRecord(ACL_NS, node.path);
  await tx.deleteRecords(ACL_NS, { prefix: `${node.path}/` });
  for (const group of await tx.listDescendants(GROUPS_ROOT, { maxDepth: 2, limit: 1_000_000 })) {
    if (group.primaryType !== GROUP_TYPE) continue;
    const members = readStrings(group.properties, 'rep:members');
    if (!members.includes(id)) continue;
    await tx.putNode({
      ...group,
      properties: {
        ...group.properties,
        'rep:members': toStored(stringProperty(members.filter((m) => m !== id))),
      },
    });
  }
}
