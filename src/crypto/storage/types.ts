import type { KeyKind } from '../key-id.js';

/** Raw key versions of each kind, primary first. Empty: none of that kind stored. */
export type StoredKeys = Readonly<Record<KeyKind, readonly Buffer[]>>;

export const NO_KEYS: StoredKeys = { master: [], hmac: [] };

export function hasAnyKey(keys: StoredKeys): boolean {
  return keys.master.length > 0 || keys.hmac.length > 0;
}
