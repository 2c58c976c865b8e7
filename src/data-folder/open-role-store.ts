import { existsSync } from 'node:fs';
import type { Role } from '../config/defaults.js';
import type { Config } from '../config/load.js';
import { DataFolderError } from '../errors.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { claimStoreRole, isQuickstart, markQuickstart, readStoreRole } from './role-record.js';
import { describeStores, storesInFolder, usesEmbeddedStore } from './stores-in-folder.js';

export interface OpenRoleStoreOptions {
  /**
   * Whether this may create the store: a server's first start (`serve`, `start`), or `keys
   * import` preparing a new data folder. Every other command opens an existing store only.
   */
  readonly create: boolean;
  /** `latchkey start`: one data folder holds the author's and the IMS's stores. */
  readonly quickstart?: boolean;
}

const article = (role: Role) =>
  role === 'ims' ? 'an IMS' : role === 'author' ? 'an author' : 'a publish';

/**
 * Opens the store of `config.role`, refusing, before anything is written, a data folder or store
 * that belongs to another role (`wrong_role`) and, unless `create`, one that holds no store
 * (`no_store`). A data folder knows its role by its store files (`<role>.sqlite`); a store knows
 * its own by the role it recorded when its first server started (a PostgreSQL store too).
 *
 * @example
 * ```ts
 * const store = await openRoleStore(loadConfig({ flags: { data, role: 'publish' } }), { create: false });
 * ```
 */
export async function openRoleStore(config: Config, options: OpenRoleStoreOptions): Promise<Store> {
  const embedded = usesEmbeddedStore(config);
  const present = embedded ? storesInFolder(config.data) : [];
  if (embedded) checkFolder(config, present, options);
  let store: Store;
  try {
    store = await openStore(config.db, { create: options.create });
  } catch (err) {
    if (err instanceof DataFolderError && !embedded) {
      throw new DataFolderError(
        'no_store',
        `${err.message}: it holds no ${config.role} store. Check --db, or start the ${config.role} on it first (latchkey serve ${config.role} --db …)`,
      );
    }
    throw err;
  }
  try {
    const recorded = await readStoreRole(store);
    const where = embedded ? `${config.data}/${config.role}.sqlite` : 'the store named by --db';
    const wrongRole = (role: Role) =>
      new DataFolderError(
        'wrong_role',
        `${where} is ${article(role)} store, not ${article(config.role)} one: check ${embedded ? '--data' : '--db'}`,
      );
    if (recorded !== undefined && recorded !== config.role) throw wrongRole(recorded);
    const quickstartAuthor = options.quickstart === true && config.role === 'author' && embedded;
    // An author store with a recorded role, no quick-start mark and no IMS beside it is an author
    // instance's folder: latchkey start would add an IMS (and its admin) to it.
    if (
      quickstartAuthor &&
      recorded !== undefined &&
      !present.includes('ims') &&
      !(await isQuickstart(store))
    ) {
      throw new DataFolderError(
        'wrong_role',
        `${config.data} holds the store of an author instance (latchkey serve author), not the data of latchkey start: use latchkey serve author --data ${config.data}, or another --data for latchkey start`,
      );
    }
    if (options.create) {
      const claimed = await claimStoreRole(store, config.role);
      if (claimed !== config.role) throw wrongRole(claimed);
      if (quickstartAuthor) await markQuickstart(store);
    }
    return store;
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
}

/** Refuses a data folder that holds other roles' stores but not this one's, or (unless `create`) none. */
function checkFolder(
  config: Config,
  present: readonly Role[],
  options: OpenRoleStoreOptions,
): void {
  const { data, role } = config;
  if (present.includes(role)) return;
  const allowed: readonly Role[] = options.quickstart ? ['author', 'ims'] : [];
  // latchkey start creates the author's store first: an IMS store alone is an IMS's folder.
  const foreign = present.filter((r) => !allowed.includes(r) || (role === 'author' && r === 'ims'));
  if (foreign.length > 0) {
    throw new DataFolderError(
      'wrong_role',
      `${data} holds ${describeStores(present)}, not ${article(role)} store: ${hint(config, present, options)}`,
    );
  }
  if (options.create) return;
  throw new DataFolderError(
    'no_store',
    `${data} ${existsSync(data) ? 'holds no' : 'does not exist: no'} ${role} store (${role}.sqlite). Check --data, or start the ${role} first (${role === 'ims' ? 'latchkey start or latchkey serve ims' : role === 'author' ? 'latchkey start or latchkey serve author' : 'latchkey serve publish'} --data ${data})`,
  );
}

function hint(config: Config, present: readonly Role[], options: OpenRoleStoreOptions): string {
  const other = present.find((r) => r !== config.role)!;
  if (options.quickstart)
    return `latchkey start needs a new data folder or one it made; use latchkey serve ${other} --data ${config.data} for this one`;
  if (options.create)
    return `use latchkey serve ${other} --data ${config.data}, or another --data for a new ${config.role}`;
  if (config.role !== 'ims' && other !== 'ims') return `add --role ${other}`;
  return 'check --data';
}
