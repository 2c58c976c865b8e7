import { randomBytes } from 'node:crypto';
import { audit } from '../audit/record.js';
import { burnPasswordCheck, hashPassword, verifyPassword } from '../repository/users/password.js';
import type { Store } from '../store/types.js';

const NS = 'ims.admin';

/**
 * IMS administrators (who may create and revoke credentials and development tokens over HTTP).
 * `admin` is created once, with the given password or a generated one that the caller shows once.
 */
export async function ensureImsAdmin(
  store: Store,
  password: string | undefined,
  cost: number,
): Promise<{ created: boolean; generatedPassword: string | undefined }> {
  if (await store.getRecord(NS, 'admin')) return { created: false, generatedPassword: undefined };
  const generated = password ? undefined : randomBytes(18).toString('base64url');
  const hash = await hashPassword(password ?? generated!, cost);
  const created = await store.insertRecord(NS, 'admin', { id: 'admin', password: hash });
  if (created) {
    await audit({
      type: 'user.created',
      target: 'admin',
      details: { initialization: true, administrator: true },
    });
  }
  return { created, generatedPassword: created ? generated : undefined };
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
