import { ensureNode } from '../../repository/ensure-node.js';
import { binaryProperty, fromStored, toStored } from '../../repository/properties.js';
import type { Json, StoreOps } from '../../store/types.js';
import { KEY_KINDS, type KeyKind, keyId } from '../key-id.js';
import type { StoredKeys } from './types.js';

/**
 * Repository key storage (storage `JCR`, AEM's legacy layout): Binary properties `master` and
 * `hmac` on `/etc/key`; older versions as `master.<key id>` / `hmac.<key id>`.
 */
export const KEY_NODE = '/etc/key';

export async function readRepositoryKeys(store: StoreOps): Promise<StoredKeys> {
  const node = await store.getNode(KEY_NODE);
  const out: Record<KeyKind, Buffer[]> = { master: [], hmac: [] };
  if (!node) return out;
  const bytes = (name: string) => {
    const p = fromStored(node.properties[name] ?? null);
    return p?.type === 'Binary' && typeof p.values[0] === 'string'
      ? Buffer.from(p.values[0], 'base64')
      : undefined;
  };
  for (const kind of KEY_KINDS) {
    const primary = bytes(kind);
    if (primary) out[kind].push(primary);
    for (const name of Object.keys(node.properties).sort()) {
      if (!name.startsWith(`${kind}.`)) continue;
      const older = bytes(name);
      if (older && !out[kind].some((k) => k.equals(older))) out[kind].push(older);
    }
  }
  return out;
}

/** Replaces the key properties of `/etc/key` with `keys` (other properties stay). */
export async function writeRepositoryKeys(tx: StoreOps, keys: StoredKeys): Promise<void> {
  const { node } = await ensureNode(tx, KEY_NODE, 'nt:unstructured', 'sling:Folder');
  const properties: Record<string, Json> = {};
  for (const [name, value] of Object.entries(node.properties)) {
    if (!KEY_KINDS.some((k) => name === k || name.startsWith(`${k}.`))) properties[name] = value;
  }
  for (const kind of KEY_KINDS) {
    const [primary, ...older] = keys[kind];
    if (primary) properties[kind] = toStored(binaryProperty(primary));
    for (const o of older) properties[`${kind}.${keyId(o)}`] = toStored(binaryProperty(o));
  }
  await tx.putNode({ ...node, properties });
}

export async function removeRepositoryKeys(tx: StoreOps): Promise<void> {
  await writeRepositoryKeys(tx, { master: [], hmac: [] });
}
