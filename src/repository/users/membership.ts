import { audit } from '../../audit/record.js';
import { LatchkeyError } from '../../errors.js';
import type { StoreOps } from '../../store/types.js';
import type { RepositoryContext } from '../context.js';
import { readStrings, stringProperty, toStored } from '../properties.js';
import { requireAdmin } from '../require-admin.js';
import type { Subject } from '../subject.js';
import { findGroup, findUser } from './paths.js';

async function setMembers(tx: StoreOps, groupId: string, edit: (members: Set<string>) => void) {
  const group = await findGroup(tx, groupId);
  if (!group) throw new LatchkeyError('invalid_group', `no group ${groupId}`, 400);
  const members = new Set(readStrings(group.properties, 'rep:members'));
  edit(members);
  await tx.putNode({
    ...group,
    properties: { ...group.properties, 'rep:members': toStored(stringProperty([...members])) },
  });
}

/** Adds `member` to `groupId` inside a transaction (no checks on the member). */
export function addMember(tx: StoreOps, groupId: string, member: string): Promise<void> {
  return setMembers(tx, groupId, (m) => m.add(member));
}

/**
 * `addMembers` / `removeMembers` posted to a group's path, as AEM accepts them. Administrators
 * only; added members must exist.
 */
export async function updateMembership(
  ctx: RepositoryContext,
  actor: Subject,
  groupId: string,
  change: { add: readonly string[]; remove: readonly string[] },
): Promise<void> {
  requireAdmin(actor, 'changing group membership');
  await ctx.store.transaction(async (tx) => {
    for (const m of change.add) {
      if (m === groupId)
        throw new LatchkeyError('invalid_member', 'a group cannot contain itself', 400);
      if (!(await findUser(tx, m)) && !(await findGroup(tx, m))) {
        throw new LatchkeyError('invalid_member', `no user or group ${m}`, 400);
      }
    }
    await setMembers(tx, groupId, (members) => {
      for (const m of change.add) members.add(m);
      for (const m of change.remove) members.delete(m);
    });
  });
  await ctx.access.invalidate();
  await audit({
    type: 'group.members-changed',
    actor: actor.userId,
    target: groupId,
    details: { added: [...change.add], removed: [...change.remove] },
  });
}
