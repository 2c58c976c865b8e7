import type { Role } from '../config/defaults.js';
import { ROLES } from '../config/defaults.js';
import type { StoreOps } from '../store/types.js';

/** Where a store records what it is. */
const NS = 'store';
const ROLE = 'role';
const QUICKSTART = 'quickstart';

/** The role a store was created for, if it records one (stores made before 0.1 do not). */
export async function readStoreRole(store: StoreOps): Promise<Role | undefined> {
  const value = (await store.getRecord(NS, ROLE))?.value;
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value)
    ? (value as Role)
    : undefined;
}

/**
 * Records `role` as the store's role unless it records one already; returns the role in effect
 * (the recorded one wins: callers compare). A store from before roles were recorded takes the
 * role of its first server start.
 */
export async function claimStoreRole(store: StoreOps, role: Role): Promise<Role> {
  if (await store.insertRecord(NS, ROLE, role)) return role;
  return (await readStoreRole(store)) ?? role;
}

/** Marks an author store as the author of a `latchkey start` data folder (author and IMS). */
export async function markQuickstart(store: StoreOps): Promise<void> {
  await store.insertRecord(NS, QUICKSTART, true);
}

/** Whether the author store belongs to a `latchkey start` data folder. */
export async function isQuickstart(store: StoreOps): Promise<boolean> {
  return (await store.getRecord(NS, QUICKSTART))?.value === true;
}
