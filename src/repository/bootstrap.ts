import { randomBytes } from 'node:crypto';
import { audit } from '../audit/record.js';
import type { Role } from '../config/defaults.js';
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

export interface BootstrapResult {
  /** Whether this call initialized the store (false: it was initialized before). */
  readonly created: boolean;
  /** The generated admin password: set only when this call created admin without a given one. */
  readonly generatedPassword: string | undefined;
}

/**
 * Initializes an empty store once: the base tree, the `administrators` group, the `admin` user
 * (password given, or generated and returned so that it can be shown once), and on publish an
 * entry letting `everyone` read `/content`. Safe to call on every start and from several
 * processes at once: exactly one initializes.
 */
export async function bootstrapRepository(
  ctx: RepositoryContext,
  options: { role: Role; adminPassword?: string | undefined },
): Promise<BootstrapResult> {
  if (await ctx.store.getRecord(META_NS, INITIALIZED)) {
    return { created: false, generatedPassword: undefined };
  }
  const generated = options.adminPassword ? undefined : randomBytes(18).toString('base64url');
  const hash = await hashPassword(options.adminPassword ?? generated!, ctx.passwordHashCost);
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
  return { created, generatedPassword: created ? generated : undefined };
}
