import type { StoreOps } from '../store/types.js';
import { ImsError } from './errors.js';
import { type Environment, NS } from './model.js';

/**
 * The environment a command means when it names none: the only one the IMS has (a new IMS has
 * `p1-e1` only). With several, the caller must choose: `400 invalid_request` listing them.
 */
export async function soleEnvironment(store: StoreOps): Promise<string> {
  const ids = (await store.listRecords(NS.environment))
    .map((r) => (r.value as unknown as Environment).id)
    .sort();
  if (ids.length === 1) return ids[0]!;
  throw new ImsError(
    'invalid_request',
    ids.length === 0
      ? 'this IMS has no environment yet'
      : `this IMS has ${ids.length} environments (${ids.join(', ')}): choose one with --environment`,
  );
}
