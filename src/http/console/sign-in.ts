import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LatchkeyError } from '../../errors.js';
import { field, readForm } from '../read-form.js';
import { safeRedirect } from '../routes/login.js';

export interface ConsoleSignInOptions {
  /** The console's path (`/system/console`): where a signed-in user goes, unless elsewhere in it. */
  readonly mount: string;
  /** The sign-in page (`<mount>/login`). */
  readonly path: string;
  /** The sentence above the form: who signs in here, with what. */
  readonly intro: string;
  /**
   * Checks the password (throttled, as every credential check) and starts a session: its
   * `Set-Cookie` value, or `undefined` when the user name or password is wrong. A throttled
   * check throws `too_many_requests`.
   */
  readonly start: (
    request: FastifyRequest,
    username: string,
    password: string,
  ) => Promise<string | undefined>;
}

/**
 * A console's sign-in page: `GET` shows the form, `POST` checks the password and sends the
 * browser on (to the console page it wanted, `resource`) with the session cookie, or shows the
 * form again with what was wrong next to the field, in plain words.
 */
export function consoleSignIn(scope: FastifyInstance, options: ConsoleSignInOptions): void {
  const { mount, path, intro } = options;
  /** Where to go after signing in: a page of this console, else its start page. */
  const target = (resource: string | undefined): string => {
    const safe = safeRedirect(resource);
    return safe && (safe === mount || safe.startsWith(`${mount}/`)) ? safe : mount;
  };

  scope.get<{ Querystring: { resource?: string } }>(
    path,
    { schema: { hide: true } },
    async (request, reply) =>
      reply.page('sign-in', {
        title: 'Sign in',
        intro,
        action: path,
        resource: target(request.query.resource),
        username: '',
        errors: {},
      }),
  );

  scope.post(path, { schema: { hide: true } }, async (request, reply) => {
    const form = await readForm(request);
    const username = field(form, 'j_username') ?? '';
    const password = field(form, 'j_password') ?? '';
    const resource = target(field(form, 'resource'));
    const again = (status: number, errors: Record<string, string>, alert?: string) =>
      reply.code(status).page('sign-in', {
        title: 'Sign in',
        intro,
        action: path,
        resource,
        username,
        errors,
        alert,
      });
    if (username === '' || password === '') {
      return again(400, {
        ...(username === '' ? { username: 'Enter your user name.' } : {}),
        ...(password === '' ? { password: 'Enter your password.' } : {}),
      });
    }
    let setCookie: string | undefined;
    try {
      setCookie = await options.start(request, username, password);
    } catch (err) {
      if (!(err instanceof LatchkeyError) || err.code !== 'too_many_requests') throw err;
      reply.headers(err.headers);
      const minutes = Math.ceil(Number(err.headers['retry-after'] ?? 60) / 60);
      return again(
        429,
        {},
        `Too many failed sign-ins from your address. Wait ${minutes} minute(s) and try again.`,
      );
    }
    if (setCookie === undefined)
      return again(403, { password: 'The user name or password is wrong.' });
    return reply.code(303).header('set-cookie', setCookie).header('location', resource).send();
  });
}
