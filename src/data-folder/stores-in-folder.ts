import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROLES, type Role } from '../config/defaults.js';
import type { Config } from '../config/load.js';
import { DataFolderError } from '../errors.js';

/** The embedded store file of `role` in a data folder: `<data>/<role>.sqlite`. */
export function embeddedStoreFile(data: string, role: Role): string {
  return resolve(data, `${role}.sqlite`);
}

/** Whether `config` uses its data folder's embedded store (no `db` set, or `db` naming that file). */
export function usesEmbeddedStore(config: Config): boolean {
  return config.db === `sqlite:${embeddedStoreFile(config.data, config.role)}`;
}

/** The roles whose embedded store the data folder holds (none when the folder does not exist). */
export function storesInFolder(data: string): Role[] {
  return ROLES.filter((role) => existsSync(embeddedStoreFile(data, role)));
}

/** `an author store (author.sqlite)`, `an IMS store (ims.sqlite) and …`: for messages. */
export function describeStores(roles: readonly Role[]): string {
  return roles
    .map(
      (r) =>
        `${r === 'ims' ? 'an IMS' : r === 'author' ? 'an author' : 'a publish'} store (${r}.sqlite)`,
    )
    .join(' and ');
}

/**
 * Refuses (`no_store`) a folder that is no data folder: it holds neither a store of any role nor
 * `also` (a file or folder name inside it, such as the audit log's folder).
 */
export function requireDataFolder(data: string, also?: string): void {
  if (storesInFolder(data).length > 0 || (also && existsSync(resolve(data, also)))) return;
  throw new DataFolderError(
    'no_store',
    `${data} ${existsSync(data) ? 'holds no latchkey store' : 'does not exist'}: check --data`,
  );
}
