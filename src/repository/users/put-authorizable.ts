import type { Json, StoreOps } from '../../store/types.js';
import { ensureNode } from '../ensure-node.js';
import { parentPath } from '../path.js';
import { stringProperty, toStored } from '../properties.js';
import { GROUP_TYPE, groupPath, userPath } from './paths.js';
import { DELETED_NS, SESSIONS_VALID_AFTER, validAfterProperty } from './sessions.js';

export type AuthorizableKind = 'user' | 'system' | 'group';

const TYPES: Readonly<Record<AuthorizableKind, string>> = {
  user: 'rep:User',
  system: 'rep:SystemUser',
  group: GROUP_TYPE,
};

/**
 * Writes a user or group node (and its `rep:AuthorizableFolder` parents) inside a transaction,
 * with its id and principal name and the `extra` properties. No checks: callers validate the id
 * and make sure it is free.
 */
export async function putAuthorizable(
  tx: StoreOps,
  kind: AuthorizableKind,
  id: string,
  extra: Record<string, Json> = {},
): Promise<string> {
  const path = kind === 'group' ? groupPath(id) : userPath(id);
  // A user deleted and created again with the same id inherits none of the old sessions: tokens
  // issued before the deletion stay refused. (A user created for the first time accepts a token
  // issued before, such as an IMS development token made first.)
  const deleted = kind === 'group' ? undefined : await tx.getRecord(DELETED_NS, id);
  await ensureNode(tx, parentPath(path), 'rep:AuthorizableFolder', 'rep:AuthorizableFolder');
  await tx.putNode({
    path,
    primaryType: TYPES[kind],
    properties: {
      'rep:authorizableId': toStored(stringProperty(id)),
      'rep:principalName': toStored(stringProperty(id)),
      ...(deleted ? { [SESSIONS_VALID_AFTER]: validAfterProperty(Number(deleted.value)) } : {}),
      ...extra,
    },
  });
  return path;
}
