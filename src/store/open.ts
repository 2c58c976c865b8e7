import { PostgresStore } from './postgres/index.js';
import { SqliteStore } from './sqlite/index.js';
import type { Store, StoreOptions } from './types.js';

/**
 * Opens the store a URL names: `sqlite:/path/file.sqlite` (embedded) or `postgres://…` (shared).
 *
 * @example
 * ```ts
 * const store = await openStore('sqlite:./latchkey-data/author.sqlite');
 * ```
 */
export async function openStore(url: string, options: StoreOptions = {}): Promise<Store> {
  if (url.startsWith('sqlite:')) return new SqliteStore(url.slice('sqlite:'.length), options);
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return PostgresStore.open(url, options);
  }
  throw new TypeError(`unsupported store URL scheme: ${url.split(':')[0]}`);
}
