import { audit } from '../audit/record.js';
import { burnPasswordCheck, hashPassword, verifyPassword } from '../repository/users/password.js';
import type { Store } from '../store/types.js';

const NS = 'ims.admin';

/** Whether the IMS store has its administrator `admin`. */
export async function hasImsAdmin(store: Store): Promise<boolean> {
  return (await store.getRecord(NS, 'admin')) !== undefined;
}

/**
 * IMS administrators (who may create and revoke credentials and development tokens over HTTP).
 * `admin` is created once, with `password`; returns whether this call created it.
 */
export async function ensureImsAdmin(
  store: Store,
  password: string,
  cost: number,
): Promise<boolean> {
  if (await hasImsAdmin(store)) return false;
  const hash = await hashPassword(password, cost);
  const created = await store.insertRecord(NS, 'admin', { id: 'admin', password: hash });
  if (created) {
    await audit({
      type: 'user.created',
      target: 'admin',
      details: { initialization: true, administrator: true },
    });
  }
  return created;
}

/**
 * Sets the password of the IMS administrator `admin` (`latchkey admin reset-password`), creating
 * it when the store has none. Its Developer Console sessions end: each is bound to the password
 * hash it started with.
 */
export async function setImsAdminPassword(
  store: Store,
  password: string,
  cost: number,
): Promise<void> {
  const hash = await hashPassword(password, cost);
  await store.putRecord(NS, 'admin', { id: 'admin', password: hash });
  await audit({ type: 'user.password-changed', target: 'admin', details: { administrator: true } });
}

/** Checks an administrator's credentials, in the same time whether the id exists or not. */
export async function authenticateImsAdmin(
  store: Store,
  id: string,
  password: string,
  cost: number,
): Promise<boolean> {
  const record = (await store.getRecord(NS, id))?.value as { password?: string } | undefined;
  if (!record?.password) {
    await burnPasswordCheck(password, cost);
    return false;
  }
  return verifyPassword(password, record.password);
}
