import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { audit } from '../audit/record.js';
import { burnPasswordCheck, verifyPassword } from '../repository/users/password.js';
import type { Store } from '../store/types.js';
import { IMS_USER_NS, type ImsUser } from './dev-token.js';

/** Who is signed in to the Developer Console. */
export interface ConsoleUser {
  readonly id: string;
  /** An IMS administrator (else a developer, who sees its own environments). */
  readonly admin: boolean;
  /** The environments a developer may use (every one for an administrator). */
  readonly environments: readonly string[] | 'all';
}

/** Store records `<user id>:<SHA-256 of the secret>` → {@link SessionRecord}, until they expire. */
const SESSION_NS = 'ims.console-session';
const ADMIN_NS = 'ims.admin';
/** A console session lasts 8 hours, however active. */
export const CONSOLE_SESSION_MS = 8 * 3600 * 1000;

interface SessionRecord {
  readonly user: string;
  readonly admin: boolean;
  /** Names the password hash the session started with: a new password ends it. */
  readonly credential: string;
  readonly expiresAt: number;
}

const digest = (text: string) => createHash('sha256').update(text).digest('base64url');

/** The password hash of an administrator or developer, and what it may do. */
async function account(
  store: Store,
  id: string,
): Promise<{ hash: string; user: ConsoleUser } | undefined> {
  const admin = (await store.getRecord(ADMIN_NS, id))?.value as { password?: string } | undefined;
  if (admin?.password)
    return { hash: admin.password, user: { id, admin: true, environments: 'all' } };
  const dev = (await store.getRecord(IMS_USER_NS, id))?.value as ImsUser | undefined;
  if (dev?.password)
    return { hash: dev.password, user: { id, admin: false, environments: dev.environments } };
  return undefined;
}

/**
 * Checks a Developer Console sign-in: an IMS administrator or a developer with a password. Takes
 * the same time whether the id exists or not. Throttling is the caller's (the route's).
 */
export async function authenticateConsoleUser(
  store: Store,
  id: string,
  password: string,
  passwordHashCost: number,
): Promise<ConsoleUser | undefined> {
  const found = await account(store, id);
  if (!found) {
    await burnPasswordCheck(password, passwordHashCost);
    return undefined;
  }
  return (await verifyPassword(password, found.hash)) ? found.user : undefined;
}

/**
 * Starts a console session for a user who just signed in; returns the cookie value
 * (`<base64url user id>.<secret>`): the store keeps only the secret's SHA-256.
 */
export async function startConsoleSession(
  store: Store,
  id: string,
  now = Date.now(),
): Promise<string> {
  const found = await account(store, id);
  if (!found) throw new Error(`no console account ${id}`);
  const secret = randomBytes(32).toString('base64url');
  const expiresAt = now + CONSOLE_SESSION_MS;
  const record: SessionRecord = {
    user: id,
    admin: found.user.admin,
    credential: digest(found.hash),
    expiresAt,
  };
  await store.putRecord(SESSION_NS, `${id}:${digest(secret)}`, record as never, { expiresAt });
  await audit({
    type: 'login',
    actor: id,
    details: { method: 'console', admin: found.user.admin },
  });
  return `${Buffer.from(id).toString('base64url')}.${secret}`;
}

function parse(cookie: string): { id: string; key: string } | undefined {
  const m = /^([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{43})$/.exec(cookie);
  if (!m) return undefined;
  const id = Buffer.from(m[1]!, 'base64url').toString('utf8');
  if (Buffer.from(id).toString('base64url') !== m[1]) return undefined; // one spelling only
  return { id, key: `${id}:${digest(m[2]!)}` };
}

/**
 * The user of a console session cookie, or `undefined` when the session is unknown, expired,
 * ended, or its user's password changed since it started (or the user is gone).
 */
export async function readConsoleSession(
  store: Store,
  cookie: string,
): Promise<ConsoleUser | undefined> {
  const parsed = parse(cookie);
  if (!parsed) return undefined;
  const record = (await store.getRecord(SESSION_NS, parsed.key))?.value as
    | SessionRecord
    | undefined;
  if (!record) return undefined;
  const found = await account(store, parsed.id);
  if (!found || found.user.admin !== record.admin) return undefined;
  const now = Buffer.from(digest(found.hash));
  const then = Buffer.from(record.credential);
  if (now.length !== then.length || !timingSafeEqual(now, then)) return undefined;
  return found.user;
}

/** Ends one console session (sign out). */
export async function endConsoleSession(store: Store, cookie: string): Promise<void> {
  const parsed = parse(cookie);
  if (parsed && (await store.deleteRecord(SESSION_NS, parsed.key))) {
    await audit({ type: 'logout', actor: parsed.id, details: { kind: 'console' } });
  }
}
