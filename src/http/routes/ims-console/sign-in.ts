import type { FastifyInstance } from 'fastify';
import { type CredentialThrottle, throttledCheck } from '../../../auth/throttle.js';
import { readCookie } from '../../../auth/tokens/cookie.js';
import { LatchkeyError } from '../../../errors.js';
import {
  authenticateConsoleUser,
  CONSOLE_SESSION_MS,
  endConsoleSession,
  startConsoleSession,
} from '../../../ims/console-sessions.js';
import type { Store } from '../../../store/types.js';
import { field, readForm } from '../../read-form.js';
import { safeRedirect } from '../login.js';
import { MOUNT, SESSION_COOKIE, SIGN_IN_PATH, SIGN_OUT_PATH } from './guard.js';

const INTRO = 'Sign in as an IMS administrator, or as a developer an administrator added.';

function target(resource: string | undefined): string {
  const safe = safeRedirect(resource);
  return safe && (safe === MOUNT || safe.startsWith(`${MOUNT}/`)) ? safe : MOUNT;
}

/** The session cookie: HttpOnly, the console's paths only, never sent by another site's page. */
export function sessionCookie(value: string, secure: boolean, maxAgeS: number): string {
  return `${SESSION_COOKIE}=${value}; Path=${MOUNT}; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;
}

/**
 * The Developer Console's sign-in and sign-out: the password is checked under the IMS's throttle
 * (as every credential check), and a session of 8 hours starts, bound to that password.
 */
export function signInRoutes(
  scope: FastifyInstance,
  deps: { store: Store; throttle: CredentialThrottle; passwordHashCost: number; secure: boolean },
) {
  scope.get<{ Querystring: { resource?: string } }>(
    SIGN_IN_PATH,
    { schema: { hide: true } },
    async (request, reply) =>
      reply.page('sign-in', {
        title: 'Sign in',
        intro: INTRO,
        action: SIGN_IN_PATH,
        resource: target(request.query.resource),
        username: '',
        errors: {},
      }),
  );

  scope.post(SIGN_IN_PATH, { schema: { hide: true } }, async (request, reply) => {
    const form = await readForm(request);
    const username = field(form, 'j_username') ?? '';
    const password = field(form, 'j_password') ?? '';
    const resource = target(field(form, 'resource'));
    const again = (status: number, errors: Record<string, string>, error?: string) =>
      reply.code(status).page('sign-in', {
        title: 'Sign in',
        intro: INTRO,
        action: SIGN_IN_PATH,
        resource,
        username,
        errors,
        error,
      });
    if (username === '' || password === '') {
      return again(400, {
        ...(username === '' ? { username: 'Enter your user name.' } : {}),
        ...(password === '' ? { password: 'Enter your password.' } : {}),
      });
    }
    let user: Awaited<ReturnType<typeof authenticateConsoleUser>>;
    try {
      user = await throttledCheck(deps.throttle, 'console', username, request.ip, () =>
        authenticateConsoleUser(deps.store, username, password, deps.passwordHashCost),
      );
    } catch (err) {
      if (err instanceof LatchkeyError && err.code === 'too_many_requests') {
        reply.headers(err.headers);
        return again(
          429,
          {},
          `Too many failed sign-ins from your address. Wait ${Math.ceil(Number(err.headers['retry-after'] ?? 60) / 60)} minute(s) and try again.`,
        );
      }
      throw err;
    }
    if (!user) return again(403, { password: 'The user name or password is wrong.' });
    const value = await startConsoleSession(deps.store, user.id);
    return reply
      .code(303)
      .header('set-cookie', sessionCookie(value, deps.secure, CONSOLE_SESSION_MS / 1000))
      .header('location', resource)
      .send();
  });

  scope.post(SIGN_OUT_PATH, { schema: { hide: true } }, async (request, reply) => {
    const cookie = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (cookie) await endConsoleSession(deps.store, cookie);
    return reply
      .code(303)
      .header('set-cookie', sessionCookie('', deps.secure, 0))
      .header('location', SIGN_IN_PATH)
      .send();
  });
}
