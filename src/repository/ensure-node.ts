import type { NodeRecord, StoreOps } from '../store/types.js';
import { ancestorsAndSelf } from './path.js';

/**
 * Returns the node at `path`, creating it and any missing ancestors first. Missing ancestors get
 * `intermediateType`; the node itself gets `primaryType`. Call inside a transaction.
 */
export async function ensureNode(
  tx: StoreOps,
  path: string,
  primaryType = 'nt:unstructured',
  intermediateType = 'nt:unstructured',
): Promise<{ node: NodeRecord; created: boolean }> {
  const existing = await tx.getNode(path);
  if (existing) return { node: existing, created: false };
  const chain = ancestorsAndSelf(path);
  for (const p of chain.slice(0, -1)) {
    if (!(await tx.getNode(p))) {
      await tx.putNode({
        path: p,
        primaryType: p === '/' ? 'rep:root' : intermediateType,
        properties: {},
      });
    }
  }
  const node: NodeRecord = { path, primaryType, properties: {} };
  await tx.putNode(node);
  return { node, created: true };
}
