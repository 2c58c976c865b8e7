import type { FastifyInstance } from 'fastify';
import { InvalidCredentialsError, signIn } from '../../../auth/sign-in.js';
import type { CredentialThrottle } from '../../../auth/throttle.js';
import type { TokenServices } from '../../../auth/tokens/handler.js';
import { consoleSignIn } from '../../console/sign-in.js';
import { MOUNT, SIGN_IN_PATH } from './guard.js';

/**
 * The System Console's sign-in page (`/system/console/login`): the password is checked as
 * `/j_security_check` checks it (same throttle, same login token), and the login-token cookie
 * is what signs the browser in. Signing out is the instance's logout (`/system/sling/logout`).
 */
export function signInRoutes(
  scope: FastifyInstance,
  tokens: TokenServices,
  throttle: CredentialThrottle,
) {
  consoleSignIn(scope, {
    mount: MOUNT,
    path: SIGN_IN_PATH,
    intro: 'Sign in with your user name and password on this instance.',
    start: async (request, user, password) => {
      try {
        return (await signIn(tokens, throttle, { user, password, address: request.ip })).setCookie;
      } catch (err) {
        if (err instanceof InvalidCredentialsError) return undefined;
        throw err;
      }
    },
  });
}
