import type { Store } from '../store/types.js';
import type { HealthCheck } from './registry.js';

/** The store answers a trivial query. */
export function storeCheck(store: Store): HealthCheck {
  return {
    name: 'store',
    async run() {
      const started = performance.now();
      await store.ping();
      const ms = (performance.now() - started).toFixed(1);
      return { status: 'green', message: `${store.backend} answered in ${ms} ms` };
    },
  };
}
