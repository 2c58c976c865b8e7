import { StoreUnavailableError } from '../errors.js';
import type { Store } from '../store/types.js';
import type { HealthCheck } from './registry.js';

/**
 * The store answers a trivial query. When it cannot be reached: red, `store_unavailable: ` and
 * the driver's reason (`connect ECONNREFUSED 127.0.0.1:5432`, `terminating connection due to
 * administrator command`), which names an address at most, never a password.
 */
export function storeCheck(store: Store): HealthCheck {
  return {
    name: 'store',
    async run() {
      const started = performance.now();
      try {
        await store.ping();
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        const cause = err.cause instanceof Error ? err.cause.message : err.message;
        return {
          status: 'red',
          message: `store_unavailable: ${store.backend} cannot be reached (${cause || 'no reason given'}); requests that need it answer 503 until it is back`,
          fix:
            store.backend === 'postgres'
              ? 'Start PostgreSQL, or repair the network to it, at the address of --db: latchkey reconnects by itself, no restart is needed.'
              : 'Check that the data folder is on a disk that is mounted, readable and not full: latchkey uses the store again as soon as it answers.',
        };
      }
      const ms = (performance.now() - started).toFixed(1);
      return { status: 'green', message: `${store.backend} answered in ${ms} ms` };
    },
  };
}
