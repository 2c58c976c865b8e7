import type { Keyring } from '../crypto/keyring.js';
import { unprotect } from '../crypto/unprotect.js';
import { NotFoundError } from '../errors.js';
import { readString } from '../repository/properties.js';
import type { NodeRecord, StoreOps } from '../store/types.js';
import { CONFIG_KINDS, CONFIG_ROOT, configPath } from './kinds.js';
import { configKind } from './save.js';

export interface ConfigStatus {
  readonly kind: string;
  readonly name: string;
  readonly path: string;
  /** Whether every secret field opens with the current keys. */
  readonly decrypts: boolean;
  /** Why not, per field (never the value). */
  readonly problems: readonly string[];
}

/** A configuration's fields as stored: secret fields in their sealed form. Safe to show. */
export function sealedView(node: NodeRecord, kind: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of configKind(kind).fields) {
    const v = readString(node.properties, field);
    if (v !== undefined) out[field] = v;
  }
  return out;
}

/** A configuration with its secret fields opened: for internal use only, never sent over HTTP. */
export async function readProtectedConfig(
  store: StoreOps,
  keyring: Keyring,
  kind: string,
  name: string,
): Promise<Record<string, string>> {
  const node = await store.getNode(configPath(kind, name));
  if (!node) throw new NotFoundError(`no ${kind} configuration ${name}`);
  const view = sealedView(node, kind);
  for (const field of configKind(kind).secret) {
    if (view[field] !== undefined) view[field] = unprotect(keyring, view[field]);
  }
  return view;
}

/** Every protected configuration, and whether its secrets open with `keyring`. */
export async function checkProtectedConfigs(
  store: StoreOps,
  keyring: Keyring,
): Promise<ConfigStatus[]> {
  const out: ConfigStatus[] = [];
  for (const [kind, spec] of Object.entries(CONFIG_KINDS)) {
    const nodes = await store.listChildren(`${CONFIG_ROOT}/${kind}`);
    for (const node of nodes) {
      if (node.primaryType !== spec.nodeType) continue;
      const name = node.path.slice(node.path.lastIndexOf('/') + 1);
      const problems: string[] = [];
      for (const field of spec.secret) {
        const v = readString(node.properties, field);
        if (v === undefined) continue;
        try {
          unprotect(keyring, v);
        } catch (err) {
          problems.push(`${field}: ${(err as Error).message}`);
        }
      }
      out.push({ kind, name, path: node.path, decrypts: problems.length === 0, problems });
    }
  }
  return out;
}
