import type { FastifyRequest } from 'fastify';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../../../errors.js';
import type { ConsoleUser } from '../../../ims/console-sessions.js';

export const MOUNT = '/ims/console';
export const SIGN_IN_PATH = `${MOUNT}/login`;
export const SIGN_OUT_PATH = `${MOUNT}/logout`;
/** The console's session cookie, sent only to the console's own paths. */
export const SESSION_COOKIE = 'ims-console';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is signed in to the Developer Console (set for console requests only). */
    consoleUser: ConsoleUser | null;
  }
}

/** The signed-in console user; the sign-in page otherwise (a 401 becomes a redirect). */
export function signedIn(request: FastifyRequest): ConsoleUser {
  if (!request.consoleUser)
    throw new UnauthorizedError('sign in to use the Developer Console', false);
  return request.consoleUser;
}

/** {@link signedIn}, and an IMS administrator. */
export function administrator(request: FastifyRequest, what: string): ConsoleUser {
  const user = signedIn(request);
  if (!user.admin) throw new ForbiddenError(`${what} is for IMS administrators`);
  return user;
}

/** Refuses, as a missing one, an environment the user has no access to. */
export function assertEnvironment(user: ConsoleUser, environment: string): void {
  if (user.environments !== 'all' && !user.environments.includes(environment))
    throw new NotFoundError(`there is no environment ${environment.slice(0, 40)} for you`);
}
