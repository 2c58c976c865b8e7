import { createHash } from 'node:crypto';
import type { Json, NodeRecord, StoreOps } from '../../../store/types.js';
import { readString } from '../../properties.js';
import { ADMIN_ID, ADMINISTRATORS, ANONYMOUS_ID } from '../../subject.js';
import { GROUP_TYPE, GROUPS_ROOT, USERS_ROOT } from '../paths.js';

/**
 * The users and groups an author hands to the instances that subscribe to it, as stored: each
 * user's password only as its hash (`rep:password`, `$scrypt$…`), never in clear, its disable
 * reason, when its sessions start to count, its profile; each group's members.
 *
 *     {"authorizables":[{"id":"alice","kind":"user","properties":{…},"profile":{…}},
 *                       {"id":"editors","kind":"group","properties":{"rep:members":…}}]}
 *
 * Left out: every instance's own `admin`, `administrators` and `anonymous` (administrators stay
 * per instance), service users (each instance makes its own from IMS tokens), and stateful
 * login tokens (`.tokens`: sessions are per instance; encapsulated tokens work everywhere).
 */
export interface UserSnapshot {
  readonly authorizables: readonly ReplicatedAuthorizable[];
}

export interface ReplicatedAuthorizable {
  readonly id: string;
  readonly kind: 'user' | 'group';
  readonly properties: Readonly<Record<string, Json>>;
  /** The user's `profile` child node's properties. */
  readonly profile?: Readonly<Record<string, Json>>;
}

/** Never replicated: each instance's own. */
export const LOCAL_ONLY: ReadonlySet<string> = new Set([ADMIN_ID, ADMINISTRATORS, ANONYMOUS_ID]);

/** Marks a node written by replication (value: the source URL), so that only those are replaced or deleted. */
export const REPLICATED_FROM = 'latchkey:replicatedFrom';

const MAX_AUTHORIZABLES = 1_000_000;

/** Reads the snapshot of a store's users and groups, in id order. */
export async function readUserSnapshot(store: StoreOps): Promise<UserSnapshot> {
  const users = await store.listDescendants(USERS_ROOT, { maxDepth: 3, limit: MAX_AUTHORIZABLES });
  const groups = await store.listDescendants(GROUPS_ROOT, {
    maxDepth: 2,
    limit: MAX_AUTHORIZABLES,
  });
  const byPath = new Map(users.map((n) => [n.path, n]));
  const out: ReplicatedAuthorizable[] = [];
  for (const node of [...users, ...groups]) {
    const kind =
      node.primaryType === 'rep:User'
        ? 'user'
        : node.primaryType === GROUP_TYPE
          ? 'group'
          : undefined;
    if (!kind) continue;
    const id = readString(node.properties, 'rep:authorizableId');
    if (!id || LOCAL_ONLY.has(id)) continue;
    const { [REPLICATED_FROM]: _from, ...properties } = node.properties;
    const profile = kind === 'user' ? byPath.get(`${node.path}/profile`) : undefined;
    out.push({ id, kind, properties, ...(profile ? { profile: profile.properties } : {}) });
  }
  out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { authorizables: out };
}

/** A strong validator of a snapshot's content (the feed's ETag). */
export function snapshotTag(snapshot: UserSnapshot): string {
  return `"${createHash('sha256').update(JSON.stringify(snapshot)).digest('base64url')}"`;
}

export function isReplicated(node: NodeRecord): boolean {
  return readString(node.properties, REPLICATED_FROM) !== undefined;
}
