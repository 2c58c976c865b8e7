import type { NodeRecord } from '../../store/types.js';
import type { RepositoryContext } from '../context.js';
import { readString, readStrings } from '../properties.js';
import { requireAdmin } from '../require-admin.js';
import type { Subject } from '../subject.js';
import { GROUP_TYPE, GROUPS_ROOT, USER_TYPES, USERS_ROOT } from './paths.js';

/** A user or group as an administrator's list shows it. */
export interface AuthorizableSummary {
  readonly id: string;
  readonly kind: 'user' | 'system' | 'group';
  readonly path: string;
  /** Why the user is disabled; `undefined` when enabled (and for groups). */
  readonly disabled: string | undefined;
  /** The groups it is a direct member of. */
  readonly groups: readonly string[];
  /** A group's direct members. */
  readonly members: readonly string[];
}

/** Most users and groups read for one listing. */
const MAX_ROWS = 100_000;

function summarize(node: NodeRecord, groupsOf: Map<string, string[]>): AuthorizableSummary {
  const id = readString(node.properties, 'rep:authorizableId') ?? '';
  const kind =
    node.primaryType === GROUP_TYPE ? 'group' : node.primaryType === 'rep:User' ? 'user' : 'system';
  return {
    id,
    kind,
    path: node.path,
    disabled: readString(node.properties, 'rep:disabled'),
    groups: groupsOf.get(id) ?? [],
    members: kind === 'group' ? readStrings(node.properties, 'rep:members') : [],
  };
}

/**
 * Users and groups, ordered by id, whose id contains `query` (any case), at most `limit` of them
 * (`more` says whether others matched). Administrators only.
 *
 * @example
 * ```ts
 * const { items } = await listAuthorizables(ctx, admin, { query: 'ali' });
 * ```
 */
export async function listAuthorizables(
  ctx: RepositoryContext,
  actor: Subject,
  options: { query?: string; limit?: number } = {},
): Promise<{ items: AuthorizableSummary[]; more: boolean }> {
  requireAdmin(actor, 'listing users and groups');
  const [users, groups] = await Promise.all([
    ctx.store.listDescendants(USERS_ROOT, { maxDepth: 2, limit: MAX_ROWS }),
    ctx.store.listDescendants(GROUPS_ROOT, { maxDepth: 2, limit: MAX_ROWS }),
  ]);
  const groupNodes = groups.filter((n) => n.primaryType === GROUP_TYPE);
  const groupsOf = new Map<string, string[]>();
  for (const g of groupNodes) {
    const gid = readString(g.properties, 'rep:authorizableId') ?? '';
    for (const m of readStrings(g.properties, 'rep:members'))
      groupsOf.set(m, [...(groupsOf.get(m) ?? []), gid]);
  }
  const query = (options.query ?? '').trim().toLowerCase();
  const all = [...users.filter((n) => USER_TYPES.has(n.primaryType)), ...groupNodes]
    .map((n) => summarize(n, groupsOf))
    .filter((a) => a.id !== '' && (query === '' || a.id.toLowerCase().includes(query)))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const limit = options.limit ?? 200;
  return { items: all.slice(0, limit), more: all.length > limit };
}

/** One user or group by id, or `undefined`. Administrators only. */
export async function readAuthorizable(
  ctx: RepositoryContext,
  actor: Subject,
  id: string,
): Promise<AuthorizableSummary | undefined> {
  const { items } = await listAuthorizables(ctx, actor, { query: id, limit: MAX_ROWS });
  return items.find((a) => a.id === id);
}
