import { audit } from '../audit/record.js';
import type { Role } from '../config/defaults.js';
import type { StoreOps } from '../store/types.js';
import { writeAce } from './acl/modify-ace.js';
import type { RepositoryContext } from './context.js';
import { ensureNode } from './ensure-node.js';
import { stringProperty, toStored } from './properties.js';
import { ADMIN_ID, ADMINISTRATORS, EVERYONE } from './subject.js';
import { hashPassword } from './users/password.js';
import { putAuthorizable } from './users/put-authorizable.js';

const META_NS = 'meta';
const INITIALIZED = 'repository.initialized';

const STRUCTURE: readonly [string, string][] = [
  ['/content', 'sling:Folder'],
  ['/content/dam', 'sling:Folder'],
  ['/etc', 'sling:Folder'],
  ['/home', 'rep:AuthorizableFolder'],
  ['/home/users', 'rep:AuthorizableFolder'],
  ['/home/groups', 'rep:AuthorizableFolder'],
];

/** Whether the store was initialized (holds the base tree and its `admin`). */
export async function isRepositoryInitialized(store: StoreOps): Promise<boolean> {
  return (await store.getRecord(META_NS, INITIALIZED)) !== undefined;
}

/**
 * Initializes an empty store once: the base tree, the `administrators` group, the `admin` user
 * with `adminPassword`, and on publish an entry letting `everyone` read `/content`. Safe to call
 * on every start and from several processes at once: exactly one initializes. Returns whether
 * this call did (false: the store was initialized before).
 */
export async function bootstrapRepository(
  ctx: RepositoryContext,
  options: { role: Role; adminPassword: string },
): Promise<boolean> {
  if (await isRepositoryInitialized(ctx.store)) return false;
  const hash = await hashPassword(options.adminPassword, ctx.passwordHashCost);
  const created = await ctx.store.transaction(async (tx) => {
    if (
      !(await tx.insertRecord(META_NS, INITIALIZED, {
        role: options.role,
        at: new Date().toISOString(),
      }))
    ) {
      return false;
    }
    await ensureNode(tx, '/', 'rep:root');
    for (const [path, type] of STRUCTURE) await ensureNode(tx, path, type, type);
    await putAuthorizable(tx, 'user', ADMIN_ID, { 'rep:password': toStored(stringProperty(hash)) });
    await putAuthorizable(tx, 'group', ADMINISTRATORS, {
      'rep:members': toStored(stringProperty([ADMIN_ID])),
    });
    if (options.role === 'publish') {
      await writeAce(tx, '/content', EVERYONE, new Map([['jcr:read', 'granted']]));
    }
    return true;
  });
  await ctx.access.invalidate();
  if (created) {
    await audit({ type: 'user.created', target: ADMIN_ID, details: { initialization: true } });
    await audit({
      type: 'group.created',
      target: ADMINISTRATORS,
      details: { initialization: true, members: [ADMIN_ID] },
    });
  }
  return created;
}
