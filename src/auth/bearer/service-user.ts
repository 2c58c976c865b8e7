import { writeAce } from '../../repository/acl/modify-ace.js';
import type { RepositoryContext } from '../../repository/context.js';
import { ensureNode } from '../../repository/ensure-node.js';
import { stringProperty, toStored } from '../../repository/properties.js';
import { addMember } from '../../repository/users/membership.js';
import { findGroup, findUser } from '../../repository/users/paths.js';
import { putAuthorizable } from '../../repository/users/put-authorizable.js';

/** Every technical account's service user is a member; it may read /content until changed. */
export const TECHNICAL_ACCOUNTS_GROUP = 'ims-technical-accounts';

/**
 * The service user a technical account acts as: a system user (no password, no login) named
 * after the technical account id, created on its first request and made a member of
 * `ims-technical-accounts`. Its permissions are the repository's: grant or deny them to the user
 * or the group with `.modifyAce.json` like any other principal.
 */
export async function ensureServiceUser(
  ctx: RepositoryContext,
  technicalAccountId: string,
): Promise<void> {
  if (await findUser(ctx.store, technicalAccountId)) return;
  await ctx.store.transaction(async (tx) => {
    if (await findUser(tx, technicalAccountId)) return;
    if (!(await findGroup(tx, TECHNICAL_ACCOUNTS_GROUP))) {
      await putAuthorizable(tx, 'group', TECHNICAL_ACCOUNTS_GROUP, {
        'rep:members': toStored(stringProperty([])),
      });
      await ensureNode(tx, '/content', 'sling:Folder', 'sling:Folder');
      await writeAce(tx, '/content', TECHNICAL_ACCOUNTS_GROUP, new Map([['jcr:read', 'granted']]));
    }
    await putAuthorizable(tx, 'system', technicalAccountId);
    await addMember(tx, TECHNICAL_ACCOUNTS_GROUP, technicalAccountId);
  });
  await ctx.access.invalidate(technicalAccountId);
}
