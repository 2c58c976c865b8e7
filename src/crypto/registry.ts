import type { StoreOps } from '../store/types.js';
import type { KeyKind } from './key-id.js';

/**
 * The ids of every key the store depends on: anything sealed or signed with one of them may
 * exist. Kept in the store (beside what was sealed), so that losing the key files is noticed
 * instead of answered with a silent new key.
 */
export type KeyRegistry = Readonly<Record<KeyKind, readonly string[]>>;

const NS = 'crypto';
const KEY = 'registry';

export async function readRegistry(store: StoreOps): Promise<KeyRegistry> {
  const value = (await store.getRecord(NS, KEY))?.value as
    | { master?: string[]; hmac?: string[] }
    | undefined;
  return { master: value?.master ?? [], hmac: value?.hmac ?? [] };
}

/** Adds ids to the registry (never removes: see {@link forgetKeys}). */
export async function registerKeys(
  store: StoreOps,
  ids: Partial<Record<KeyKind, readonly string[]>>,
): Promise<void> {
  const current = await readRegistry(store);
  const next = {
    master: [...new Set([...current.master, ...(ids.master ?? [])])],
    hmac: [...new Set([...current.hmac, ...(ids.hmac ?? [])])],
  };
  if (next.master.length !== current.master.length || next.hmac.length !== current.hmac.length) {
    await store.putRecord(NS, KEY, next);
  }
}

/** Removes ids once nothing depends on them any more (after a rewrap, for master keys). */
export async function forgetKeys(
  store: StoreOps,
  kind: KeyKind,
  keep: readonly string[],
): Promise<void> {
  const current = await readRegistry(store);
  const next = { ...current, [kind]: current[kind].filter((id) => keep.includes(id)) };
  await store.putRecord(NS, KEY, { master: [...next.master], hmac: [...next.hmac] });
}
