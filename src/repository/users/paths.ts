import { LatchkeyError } from '../../errors.js';
import type { NodeRecord, StoreOps } from '../../store/types.js';
import { readString } from '../properties.js';
import { ANONYMOUS_ID, EVERYONE } from '../subject.js';

export const USERS_ROOT = '/home/users';
export const GROUPS_ROOT = '/home/groups';
export const USER_TYPES = new Set(['rep:User', 'rep:SystemUser']);
export const GROUP_TYPE = 'rep:Group';

const ID = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;
const RESERVED = new Set([ANONYMOUS_ID, EVERYONE]);

/** Checks an authorizable id (user or group); throws a 400 `invalid_authorizable_id`. */
export function validateAuthorizableId(id: string | undefined): string {
  if (id === undefined || !ID.test(id)) {
    throw new LatchkeyError(
      'invalid_authorizable_id',
      'authorizableId must be 1-128 characters of letters, digits and . _ @ + - (starting with a letter or digit)',
      400,
    );
  }
  if (RESERVED.has(id.toLowerCase())) {
    throw new LatchkeyError('invalid_authorizable_id', `authorizableId ${id} is reserved`, 400);
  }
  return id;
}

/** Where a user lives: `/home/users/<first letter>/<id>`, as AEM lays them out. */
export function userPath(id: string): string {
  return `${USERS_ROOT}/${id[0]!.toLowerCase()}/${id}`;
}

export function groupPath(id: string): string {
  return `${GROUPS_ROOT}/${id[0]!.toLowerCase()}/${id}`;
}

export function isAuthorizable(node: NodeRecord): boolean {
  return USER_TYPES.has(node.primaryType) || node.primaryType === GROUP_TYPE;
}

/** The user node for `id`, if such a user exists. */
export async function findUser(store: StoreOps, id: string): Promise<NodeRecord | undefined> {
  if (!ID.test(id)) return undefined;
  const node = await store.getNode(userPath(id));
  return node &&
    USER_TYPES.has(node.primaryType) &&
    readString(node.properties, 'rep:authorizableId') === id
    ? node
    : undefined;
}

export async function findGroup(store: StoreOps, id: string): Promise<NodeRecord | undefined> {
  if (!ID.test(id)) return undefined;
  const node = await store.getNode(groupPath(id));
  return node?.primaryType === GROUP_TYPE ? node : undefined;
}
