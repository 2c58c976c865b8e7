import { audit } from '../../audit/record.js';
import { ConflictError, LatchkeyError } from '../../errors.js';
import type { Json, StoreOps } from '../../store/types.js';
import { writeAce } from '../acl/modify-ace.js';
import type { RepositoryContext } from '../context.js';
import { isValidName } from '../path.js';
import { setOwn, stringProperty, toStored } from '../properties.js';
import { requireAdmin } from '../require-admin.js';
import type { Subject } from '../subject.js';
import { addMember } from './membership.js';
import { hashPassword } from './password.js';
import { findGroup, groupPath, userPath, validateAuthorizableId } from './paths.js';
import { putAuthorizable } from './put-authorizable.js';

export interface NewUser {
  readonly id: string | undefined;
  /** Required for a regular user; a system user (service user) has none and cannot log in. */
  readonly password?: string | undefined;
  readonly system?: boolean;
  /** Groups to join (must exist). */
  readonly groups?: readonly string[];
  /** `profile/<name>` values, stored on the user's `profile` child node. */
  readonly profile?: ReadonlyMap<string, string>;
}

/**
 * Creates a user, as `POST /libs/granite/security/post/authorizables` with `createUser` does in
 * AEM. Administrators only. The password is stored only as an scrypt hash. The user may read
 * their own node.
 *
 * @example
 * ```ts
 * const { path } = await createUser(ctx, admin, { id: 'alice', password: 's3cret!' });
 * // path === '/home/users/a/alice'
 * ```
 */
export async function createUser(
  ctx: RepositoryContext,
  actor: Subject,
  user: NewUser,
): Promise<{ id: string; path: string }> {
  requireAdmin(actor, 'creating users');
  const id = validateAuthorizableId(user.id);
  if (!user.system && (user.password === undefined || user.password === '')) {
    throw new LatchkeyError(
      'invalid_password',
      'rep:password is required and must not be empty',
      400,
    );
  }
  for (const name of user.profile?.keys() ?? []) {
    if (!isValidName(name) || name.startsWith('rep:') || name.startsWith('jcr:')) {
      throw new LatchkeyError('invalid_property', `invalid profile property name`, 400);
    }
  }
  // Hash outside the transaction: it is the slow part, and needs no store.
  const hash = user.password ? await hashPassword(user.password, ctx.passwordHashCost) : undefined;
  const path = userPath(id);
  await ctx.store.transaction(async (tx) => {
    await assertIdFree(tx, id);
    for (const g of user.groups ?? []) {
      if (!(await findGroup(tx, g))) throw new LatchkeyError('invalid_group', `no group ${g}`, 400);
    }
    const extra: Record<string, Json> = {};
    if (hash) extra['rep:password'] = toStored(stringProperty(hash));
    await putAuthorizable(tx, user.system ? 'system' : 'user', id, extra);
    if (user.profile && user.profile.size > 0) {
      const profile: Record<string, Json> = {};
      for (const [k, v] of user.profile) setOwn(profile, k, toStored(stringProperty(v)));
      await tx.putNode({
        path: `${path}/profile`,
        primaryType: 'nt:unstructured',
        properties: profile,
      });
    }
    await writeAce(tx, path, id, new Map([['jcr:read', 'granted']]));
    for (const g of user.groups ?? []) await addMember(tx, g, id);
  });
  await ctx.access.invalidate();
  await audit({
    type: 'user.created',
    actor: actor.userId,
    target: id,
    details: {
      ...(user.system ? { system: true } : {}),
      ...(user.groups?.length ? { groups: [...user.groups] } : {}),
    },
  });
  return { id, path };
}

/** User and group ids share one namespace. */
export async function assertIdFree(tx: StoreOps, id: string): Promise<void> {
  if ((await tx.getNode(userPath(id))) || (await tx.getNode(groupPath(id)))) {
    throw new ConflictError(`an authorizable with id ${id} exists already`);
  }
}
