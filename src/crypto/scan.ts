import { fromStored } from '../repository/properties.js';
import type { NodeRecord, StoreOps } from '../store/types.js';
import { isProtected } from './protected-format.js';

export interface ProtectedOccurrence {
  readonly node: NodeRecord;
  readonly property: string;
  /** Index among the property's values (multi-valued properties may hold several). */
  readonly index: number;
  readonly value: string;
}

const ALL = { maxDepth: 100_000, limit: 100_000_000 };

/** Every protected value (latchkey's or AEM's) held in a String property of the repository. */
export async function findProtectedValues(store: StoreOps): Promise<ProtectedOccurrence[]> {
  const root = await store.getNode('/');
  const nodes = [...(root ? [root] : []), ...(await store.listDescendants('/', ALL))];
  const out: ProtectedOccurrence[] = [];
  for (const node of nodes) {
    for (const [property, stored] of Object.entries(node.properties)) {
      const p = fromStored(stored);
      if (p?.type !== 'String') continue;
      p.values.forEach((value, index) => {
        if (isProtected(value)) out.push({ node, property, index, value });
      });
    }
  }
  return out;
}
