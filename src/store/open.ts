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
  // Each backend's driver is loaded only when a URL names it: a CLI command on the embedded
  // store never pays for pg, and the other way round.
  if (url.startsWith('sqlite:')) {
    const { SqliteStore } = await import('./sqlite/index.js');
    return new SqliteStore(url.slice('sqlite:'.length), options);
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { PostgresStore } = await import('./postgres/index.js');
    return PostgresStore.open(url, options);
  }
  throw new TypeError(`unsupported store URL scheme: ${url.split(':')[0]}`);
}
