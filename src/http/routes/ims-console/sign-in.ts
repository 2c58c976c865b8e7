import type { FastifyInstance } from 'fastify';
import { type CredentialThrottle, throttledCheck } from '../../../auth/throttle.js';
import { readCookie } from '../../../auth/tokens/cookie.js';
import {
  authenticateConsoleUser,
  CONSOLE_SESSION_MS,
  endConsoleSession,
  startConsoleSession,
} from '../../../ims/console-sessions.js';
import type { Store } from '../../../store/types.js';
import { consoleSignIn } from '../../console/sign-in.js';
import { MOUNT, SESSION_COOKIE, SIGN_IN_PATH, SIGN_OUT_PATH } from './guard.js';

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
  consoleSignIn(scope, {
    mount: MOUNT,
    path: SIGN_IN_PATH,
    intro: 'Sign in as an IMS administrator, or as a developer an administrator added.',
    start: async (request, username, password) => {
      const user = await throttledCheck(deps.throttle, 'console', username, request.ip, () =>
        authenticateConsoleUser(deps.store, username, password, deps.passwordHashCost),
      );
      if (!user) return undefined;
      const value = await startConsoleSession(deps.store, user.id);
      return sessionCookie(value, deps.secure, CONSOLE_SESSION_MS / 1000);
    },
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
