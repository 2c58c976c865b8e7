import type { Json, StoreOps } from '../../store/types.js';
import { ensureNode } from '../ensure-node.js';
import { parentPath } from '../path.js';
import { stringProperty, toStored } from '../properties.js';
import { GROUP_TYPE, groupPath, userPath } from './paths.js';

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
  await ensureNode(tx, parentPath(path), 'rep:AuthorizableFolder', 'rep:AuthorizableFolder');
  await tx.putNode({
    path,
    primaryType: TYPES[kind],
    properties: {
      'rep:authorizableId': toStored(stringProperty(id)),
      'rep:principalName': toStored(stringProperty(id)),
      ...extra,
    },
  });
  return path;
}
