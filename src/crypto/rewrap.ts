import { audit } from '../audit/record.js';
import { fromStored, toStored } from '../repository/properties.js';
import type { Json } from '../store/types.js';
import type { CryptoError } from './errors.js';
import type { KeyLocation } from './load-keyring.js';
import { loadKeyring } from './load-keyring.js';
import { protect } from './protect.js';
import { parseProtected } from './protected-format.js';
import { forgetKeys } from './registry.js';
import { findProtectedValues } from './scan.js';
import { unprotect } from './unprotect.js';

export interface RewrapReport {
  readonly rewrapped: number;
  readonly current: number;
  readonly failed: readonly { path: string; property: string; code: string }[];
}

/**
 * Re-seals every protected value of the repository (AEM legacy ones included) with the primary
 * master key, in the current format, one node per transaction. A value that does not open is
 * left as it is and reported. When none failed, older master keys are no longer needed by the
 * store and leave its key registry (their files stay until removed by hand).
 */
export async function rewrap(loc: KeyLocation): Promise<RewrapReport> {
  const keyring = await loadKeyring(loc, { initialize: false });
  const primary = keyring.master.primary.id;
  const found = await findProtectedValues(loc.store);
  const failed: { path: string; property: string; code: string }[] = [];
  let rewrapped = 0;
  let current = 0;
  const byNode = new Map<string, typeof found>();
  for (const o of found) {
    const parsed = parseProtected(o.value);
    if (parsed?.format === 'lk1' && parsed.kid === primary) {
      current++;
      continue;
    }
    byNode.set(o.node.path, [...(byNode.get(o.node.path) ?? []), o]);
  }
  for (const [path, occurrences] of byNode) {
    const replacements = new Map<string, string>();
    for (const o of occurrences) {
      try {
        replacements.set(
          `${o.property}\u0000${o.index}`,
          protect(keyring, unprotect(keyring, o.value)),
        );
      } catch (err) {
        failed.push({ path, property: o.property, code: (err as CryptoError).code ?? 'error' });
      }
    }
    if (replacements.size === 0) continue;
    await loc.store.transaction(async (tx) => {
      const node = await tx.getNode(path);
      if (!node) return;
      const properties: Record<string, Json> = { ...node.properties };
      for (const [name, stored] of Object.entries(node.properties)) {
        const p = fromStored(stored);
        if (p?.type !== 'String') continue;
        let changed = false;
        const values = p.values.map((v, i) => {
          const r = replacements.get(`${name}\u0000${i}`);
          // Only if the value is still the one that was read (no concurrent change lost).
          const original = occurrences.find((o) => o.property === name && o.index === i)?.value;
          if (r !== undefined && v === original) {
            changed = true;
            return r;
          }
          return v;
        });
        if (changed) properties[name] = toStored({ ...p, values });
      }
      await tx.putNode({ ...node, properties });
    });
    rewrapped += replacements.size;
  }
  if (failed.length === 0) await forgetKeys(loc.store, 'master', [primary]);
  await audit({
    type: 'keys.rewrapped',
    outcome: failed.length === 0 ? 'success' : 'failure',
    target: primary,
    details: { rewrapped, current, failed: failed.length },
  });
  return { rewrapped, current, failed };
}
