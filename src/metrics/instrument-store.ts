import type { Store } from '../store/types.js';
import { storeLatency } from './registry.js';

const TIMED = new Set([
  'getNode',
  'listChildren',
  'listDescendants',
  'putNode',
  'deleteTree',
  'getRecord',
  'listRecords',
  'putRecord',
  'insertRecord',
  'consumeRecord',
  'deleteRecord',
  'deleteRecords',
  'transaction',
  'purgeExpired',
  'ping',
  'publish',
]);

/**
 * The store with every operation timed into `latchkey_store_operation_seconds` (a transaction
 * counts once, as a whole). Calls go to the store itself, so its private state is untouched.
 */
export function instrumentStore(store: Store): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (typeof prop !== 'string' || !TIMED.has(prop)) return value.bind(target);
      return (...args: unknown[]) => {
        const end = storeLatency.startTimer({ backend: target.backend, op: prop });
        const result = (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        const done = () => {
          end();
        };
        result.then(done, done);
        return result;
      };
    },
  });
}
