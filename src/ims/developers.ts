import { audit } from '../audit/record.js';
import { hashPassword, verifyPassword } from '../repository/users/password.js';
import type { Store } from '../store/types.js';
import { assertUserId, IMS_USER_NS, type ImsUser } from './dev-token.js';
import { ImsError } from './errors.js';
import { ENVIRONMENT_ID, NS } from './model.js';
import { revokeDevTokens } from './revoke-dev-tokens.js';
import { isTechnicalAccountId } from './technical-account.js';

/** A developer as the Developer Console lists it: never its password. */
export interface Developer {
  readonly id: string;
  readonly environments: readonly string[];
  /** Whether it can sign in to the Developer Console. */
  readonly canSignIn: boolean;
}

/**
 * Gives an IMS user (created if new) access to an environment, and sets the password it signs in
 * to the Developer Console with (a new password ends its console sessions, bound to the password
 * they started with, and revokes the development tokens issued to it so far). A developer gets local development tokens for itself there.
 * `admin` is the IMS administrator's name and cannot be a developer.
 */
export async function addDeveloper(
  store: Store,
  options: { id: string; password: string; environment: string },
  passwordHashCost: number,
): Promise<Developer> {
  assertUserId(options.id);
  if (options.id.toLowerCase() === 'admin')
    throw new ImsError('invalid_request', 'admin is the IMS administrator; choose another id');
  if (isTechnicalAccountId(options.id))
    throw new ImsError(
      'invalid_request',
      'an id @techacct.adobe.com is an integration’s technical account; choose a user id',
    );
  if (options.password.length < 8)
    throw new ImsError('invalid_password', 'the password must have at least 8 characters');
  if (
    !ENVIRONMENT_ID.test(options.environment) ||
    !(await store.getRecord(NS.environment, options.environment))
  )
    throw new ImsError('invalid_request', `no environment ${options.environment}`, 404);
  // A new password ends what the old one gave: console sessions (bound to the password they
  // started with) and the development tokens got with it (someone who learnt it may hold some).
  const before = (await store.getRecord(IMS_USER_NS, options.id))?.value as ImsUser | undefined;
  const changed =
    before?.password !== undefined && !(await verifyPassword(options.password, before.password));
  const password = await hashPassword(options.password, passwordHashCost);
  const { developer, existed } = await store.transaction(async (tx) => {
    const user = (await tx.getRecord(IMS_USER_NS, options.id))?.value as ImsUser | undefined;
    const environments = [...new Set([...(user?.environments ?? []), options.environment])];
    await tx.putRecord(IMS_USER_NS, options.id, { id: options.id, environments, password });
    return { developer: { id: options.id, environments, canSignIn: true }, existed: !!user };
  });
  if (changed) await revokeDevTokens(store, { user: options.id });
  await audit({
    type: existed ? 'user.password-changed' : 'user.created',
    target: options.id,
    details: { developer: true, environment: options.environment },
  });
  return developer;
}

/** The IMS users with access to an environment (or all), by id. */
export async function listDevelopers(store: Store, environment?: string): Promise<Developer[]> {
  return (await store.listRecords(IMS_USER_NS))
    .map((r) => r.value as unknown as ImsUser)
    .filter((u) => environment === undefined || u.environments.includes(environment))
    .map((u) => ({ id: u.id, environments: u.environments, canSignIn: Boolean(u.password) }));
}
