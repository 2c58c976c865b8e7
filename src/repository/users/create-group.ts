import { audit } from '../../audit/record.js';
import { LatchkeyError } from '../../errors.js';
import type { RepositoryContext } from '../context.js';
import { stringProperty, toStored } from '../properties.js';
import { requireAdmin } from '../require-admin.js';
import type { Subject } from '../subject.js';
import { assertIdFree } from './create-user.js';
import { findGroup, findUser, groupPath, validateAuthorizableId } from './paths.js';
import { putAuthorizable } from './put-authorizable.js';

/**
 * Creates a group (`createGroup` on the authorizables endpoint). Administrators only. `members`
 * (users or groups) must exist.
 */
export async function createGroup(
  ctx: RepositoryContext,
  actor: Subject,
  group: { id: string | undefined; members?: readonly string[] },
): Promise<{ id: string; path: string }> {
  requireAdmin(actor, 'creating groups');
  const id = validateAuthorizableId(group.id);
  const path = groupPath(id);
  const members = [...new Set(group.members ?? [])];
  await ctx.store.transaction(async (tx) => {
    await assertIdFree(tx, id);
    for (const m of members) {
      if (!(await findUser(tx, m)) && !(await findGroup(tx, m))) {
        throw new LatchkeyError('invalid_member', `no user or group ${m}`, 400);
      }
    }
    await putAuthorizable(tx, 'group', id, { 'rep:members': toStored(stringProperty(members)) });
  });
  await ctx.access.invalidate();
  await audit({
    type: 'group.created',
    actor: actor.userId,
    target: id,
    details: members.length ? { members } : {},
  });
  return { id, path };
}
