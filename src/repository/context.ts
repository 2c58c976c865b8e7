import type { Store } from '../store/types.js';
import { AccessCache } from './acl/cache.js';

/** What repository operations need; built once per server. */
export interface RepositoryContext {
  readonly store: Store;
  readonly access: AccessCache;
  /** scrypt cost (log2 N) for new password hashes. */
  readonly passwordHashCost: number;
  /** Most nodes one JSON rendering may contain. */
  readonly maxRenderNodes: number;
}

export interface RepositoryOptions {
  readonly passwordHashCost?: number;
  readonly maxRenderNodes?: number;
  readonly aclCacheMs?: number;
}

export function createRepositoryContext(
  store: Store,
  options: RepositoryOptions = {},
): RepositoryContext {
  return {
    store,
    access: new AccessCache(store, options.aclCacheMs ?? 5000),
    passwordHashCost: options.passwordHashCost ?? 15,
    maxRenderNodes: options.maxRenderNodes ?? 1000,
  };
}
