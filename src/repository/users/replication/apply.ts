import { isDeepStrictEqual } from 'node:util';
import { audit } from '../../../audit/record.js';
import type { Json, NodeRecord, StoreOps } from '../../../store/types.js';
import { writeAce } from '../../acl/modify-ace.js';
import type { RepositoryContext } from '../../context.js';
import { ensureNode } from '../../ensure-node.js';
import { parentPath } from '../../path.js';
import { readString, readStrings, stringProperty, toStored } from '../../properties.js';
import { removeAuthorizable } from '../delete-authorizable.js';
import {
  GROUP_TYPE,
  GROUPS_ROOT,
  groupPath,
  isAuthorizable,
  USERS_ROOT,
  userPath,
  validateAuthorizableId,
} from '../paths.js';
import {
  DELETED_NS,
  SESSIONS_VALID_AFTER,
  sessionsValidAfter,
  validAfterProperty,
} from '../sessions.js';
import {
  isReplicated,
  LOCAL_ONLY,
  REPLICATED_FROM,
  type ReplicatedAuthorizable,
  type UserSnapshot,
} from './snapshot.js';

export interface ApplyReport {
  readonly created: string[];
  readonly changed: string[];
  readonly deleted: string[];
}

type Event = Parameters<typeof audit>[0];

/**
 * Makes this store's replicated users and groups what `snapshot` (from the author at `source`)
 * says, in one transaction: creates those missing, rewrites those that differ (password hash,
 * disable reason, profile, members), deletes those the author no longer has. A user or group of
 * the same id made here by hand is replaced (the author's wins); users and groups only made here
 * stay, and so do `admin`, `administrators` and `anonymous`. When a user's password, disable or
 * ended sessions changed on the author, its sessions end here too (its stateful tokens go, and
 * the later of both instants counts): a change never revives a session ended here.
 */
export async function applyUserSnapshot(
  ctx: RepositoryContext,
  snapshot: UserSnapshot,
  source: string,
): Promise<ApplyReport> {
  const report: ApplyReport = { created: [], changed: [], deleted: [] };
  const events: Event[] = [];
  const wanted = new Map<string, ReplicatedAuthorizable>();
  for (const a of snapshot.authorizables) {
    // An id that is no valid authorizable id here (a path, a reserved name) is never written.
    if (!LOCAL_ONLY.has(a.id) && isValidId(a.id)) wanted.set(a.id, a);
  }
  await ctx.store.transaction(async (tx) => {
    const local = [
      ...(await tx.listDescendants(USERS_ROOT, { maxDepth: 2, limit: 1_000_000 })),
      ...(await tx.listDescendants(GROUPS_ROOT, { maxDepth: 2, limit: 1_000_000 })),
    ].filter(isAuthorizable);
    for (const node of local) {
      const id = readString(node.properties, 'rep:authorizableId') ?? '';
      if (!isReplicated(node) || wanted.has(id) || LOCAL_ONLY.has(id)) continue;
      await removeAuthorizable(tx, node, id);
      report.deleted.push(id);
      events.push({
        type: node.primaryType === GROUP_TYPE ? 'group.deleted' : 'user.deleted',
        target: id,
      });
    }
    for (const a of wanted.values()) {
      const outcome = await put(tx, a, source);
      if (outcome === 'same') continue;
      (outcome.created ? report.created : report.changed).push(a.id);
      events.push(...outcome.events);
    }
  });
  if (report.created.length + report.changed.length + report.deleted.length > 0) {
    await ctx.access.invalidate();
    for (const e of events)
      await audit({ ...e, details: { ...e.details, replicatedFrom: source } });
  }
  return report;
}

function isValidId(id: string): boolean {
  try {
    validateAuthorizableId(id);
    return true;
  } catch {
    return false;
  }
}

async function put(
  tx: StoreOps,
  a: ReplicatedAuthorizable,
  source: string,
): Promise<'same' | { created: boolean; events: Event[] }> {
  const path = a.kind === 'group' ? groupPath(a.id) : userPath(a.id);
  const primaryType = a.kind === 'group' ? GROUP_TYPE : 'rep:User';
  let existing = await tx.getNode(path);
  if (existing && existing.primaryType !== primaryType) {
    // A user here where the author has a group of that id (or the reverse): the author's wins.
    await removeAuthorizable(tx, existing, a.id);
    existing = undefined;
  }
  const properties: Record<string, Json> = {
    ...a.properties,
    'rep:authorizableId': toStored(stringProperty(a.id)),
    'rep:principalName': toStored(stringProperty(a.id)),
    [REPLICATED_FROM]: toStored(stringProperty(source)),
  };
  // Sessions ended here (or a deletion here) are never revived by the author's older instant.
  const remote = sessionsValidAfter({ path, primaryType, properties });
  const deleted = existing ? undefined : await tx.getRecord(DELETED_NS, a.id);
  const here = existing ? sessionsValidAfter(existing) : Number(deleted?.value ?? 0);
  const validAfter = Math.max(remote, here);
  if (validAfter > 0) properties[SESSIONS_VALID_AFTER] = validAfterProperty(validAfter);
  else delete properties[SESSIONS_VALID_AFTER];
  const node: NodeRecord = { path, primaryType, properties };
  const profilePath = `${path}/profile`;
  const profileNow = a.kind === 'user' ? await tx.getNode(profilePath) : undefined;
  const sameNode = existing !== undefined && isDeepStrictEqual(existing.properties, properties);
  const sameProfile = isDeepStrictEqual(profileNow?.properties, a.profile);
  if (sameNode && sameProfile) return 'same';

  const events: Event[] = [];
  if (!sameNode) {
    await ensureNode(tx, parentPath(path), 'rep:AuthorizableFolder', 'rep:AuthorizableFolder');
    await tx.putNode(node);
    // Stateful tokens are per instance: they end with the sessions.
    if (existing && validAfter > sessionsValidAfter(existing))
      await tx.deleteTree(`${path}/.tokens`);
  }
  if (!sameProfile) {
    if (a.profile)
      await tx.putNode({
        path: profilePath,
        primaryType: 'nt:unstructured',
        properties: a.profile,
      });
    else await tx.deleteTree(profilePath);
  }
  if (!existing) {
    if (a.kind === 'user') await writeAce(tx, path, a.id, new Map([['jcr:read', 'granted']]));
    events.push({ type: a.kind === 'group' ? 'group.created' : 'user.created', target: a.id });
    return { created: true, events };
  }
  const was = (name: string) => readString(existing.properties, name);
  const is = (name: string) => readString(properties, name);
  if (a.kind === 'group') {
    const before = readStrings(existing.properties, 'rep:members');
    const after = readStrings(properties, 'rep:members');
    const added = after.filter((m) => !before.includes(m));
    const removed = before.filter((m) => !after.includes(m));
    if (added.length || removed.length)
      events.push({ type: 'group.members-changed', target: a.id, details: { added, removed } });
  } else {
    const password = was('rep:password') !== is('rep:password');
    const disable = was('rep:disabled') !== is('rep:disabled');
    if (password) events.push({ type: 'user.password-changed', target: a.id });
    if (disable)
      events.push(
        is('rep:disabled') === undefined
          ? { type: 'user.enabled', target: a.id }
          : { type: 'user.disabled', target: a.id, details: { reason: is('rep:disabled')! } },
      );
    if (!password && !disable && validAfter > sessionsValidAfter(existing))
      events.push({ type: 'user.sessions-ended', target: a.id });
  }
  return { created: false, events };
}
