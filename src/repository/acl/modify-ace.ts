import { audit } from '../../audit/record.js';
import { LatchkeyError } from '../../errors.js';
import type { Json, StoreOps } from '../../store/types.js';
import type { RepositoryContext } from '../context.js';
import { requireAdmin } from '../require-admin.js';
import type { Subject } from '../subject.js';
import { ACL_NS, type Ace, PRIVILEGES, type Privilege } from './types.js';

export type PrivilegeChange = 'granted' | 'denied' | 'none';

/**
 * Changes one principal's entries on one node, as Sling's `modifyAce` does: each named privilege
 * becomes granted, denied or (none) unmentioned. The principal's entries move to the end of the
 * node's list, so they take precedence over other entries of that node. Call inside a
 * transaction; the caller invalidates the access cache after commit.
 */
export async function writeAce(
  tx: StoreOps,
  path: string,
  principal: string,
  changes: ReadonlyMap<Privilege, PrivilegeChange>,
): Promise<void> {
  const current = ((await tx.getRecord(ACL_NS, path))?.value ?? []) as unknown as Ace[];
  const mine = current.filter((a) => a.principal === principal);
  const others = current.filter((a) => a.principal !== principal);
  const allow = new Set(mine.filter((a) => a.allow).flatMap((a) => a.privileges));
  const deny = new Set(mine.filter((a) => !a.allow).flatMap((a) => a.privileges));
  for (const [privilege, change] of changes) {
    allow.delete(privilege);
    deny.delete(privilege);
    if (change === 'granted') allow.add(privilege);
    if (change === 'denied') deny.add(privilege);
  }
  const next: Ace[] = [...others];
  if (deny.size > 0) next.push({ principal, allow: false, privileges: [...deny].sort() });
  if (allow.size > 0) next.push({ principal, allow: true, privileges: [...allow].sort() });
  if (next.length === 0) await tx.deleteRecord(ACL_NS, path);
  else await tx.putRecord(ACL_NS, path, next as unknown as Json);
}

/** Parses Sling's `privilege@jcr:read=granted` form fields. */
export function parsePrivilegeFields(
  fields: ReadonlyMap<string, readonly string[]>,
): Map<Privilege, PrivilegeChange> {
  const changes = new Map<Privilege, PrivilegeChange>();
  for (const [name, values] of fields) {
    if (!name.startsWith('privilege@')) continue;
    const privilege = name.slice('privilege@'.length) as Privilege;
    if (!PRIVILEGES.includes(privilege)) {
      throw new LatchkeyError(
        'invalid_privilege',
        `unknown privilege ${JSON.stringify(privilege.slice(0, 60))}; use one of ${PRIVILEGES.join(', ')}`,
        400,
      );
    }
    const value = values[values.length - 1] ?? '';
    if (value !== 'granted' && value !== 'denied' && value !== 'none') {
      throw new LatchkeyError('invalid_privilege', `${name} must be granted, denied or none`, 400);
    }
    changes.set(privilege, value);
  }
  return changes;
}

/** `POST <path>.modifyAce.json`: administrators only; the node must exist. */
export async function modifyAce(
  ctx: RepositoryContext,
  actor: Subject,
  path: string,
  principal: string | undefined,
  changes: ReadonlyMap<Privilege, PrivilegeChange>,
): Promise<void> {
  requireAdmin(actor, 'changing access control');
  if (!principal) throw new LatchkeyError('invalid_request', 'principalId is required', 400);
  if (changes.size === 0) {
    throw new LatchkeyError(
      'invalid_request',
      'name at least one privilege@<privilege> field',
      400,
    );
  }
  await ctx.store.transaction(async (tx) => {
    if (!(await tx.getNode(path))) throw new LatchkeyError('not_found', 'no such resource', 404);
    await writeAce(tx, path, principal, changes);
  });
  await ctx.access.invalidate();
  await audit({
    type: 'acl.changed',
    actor: actor.userId,
    target: path,
    details: {
      principal,
      ...Object.fromEntries([...changes].map(([privilege, change]) => [privilege, change])),
    },
  });
}
