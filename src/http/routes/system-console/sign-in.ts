import type { FastifyInstance } from 'fastify';
import { InvalidCredentialsError, signIn } from '../../../auth/sign-in.js';
import type { CredentialThrottle } from '../../../auth/throttle.js';
import type { TokenServices } from '../../../auth/tokens/handler.js';
import { LatchkeyError } from '../../../errors.js';
import { field, readForm } from '../../read-form.js';
import { safeRedirect } from '../login.js';
import { MOUNT, SIGN_IN_PATH } from './guard.js';

const INTRO = 'Sign in with your user name and password on this instance.';

/** Where to go after signing in: a page of this console, else its start page. */
function target(resource: string | undefined): string {
  const safe = safeRedirect(resource);
  return safe && (safe === MOUNT || safe.startsWith(`${MOUNT}/`)) ? safe : MOUNT;
}

/**
 * The System Console's sign-in page: `GET /system/console/login` shows the form, `POST` checks
 * the password as `/j_security_check` does (same throttle, same token) and sends the browser on
 * with the login-token cookie, or shows the form again with what was wrong.
 */
export function signInRoutes(
  scope: FastifyInstance,
  tokens: TokenServices,
  throttle: CredentialThrottle,
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
    try {
      const { setCookie } = await signIn(tokens, throttle, {
        user: username,
        password,
        address: request.ip,
      });
      return reply.code(303).header('set-cookie', setCookie).header('location', resource).send();
    } catch (err) {
      if (err instanceof InvalidCredentialsError)
        return again(403, { password: 'The user name or password is wrong.' });
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
  });
}
