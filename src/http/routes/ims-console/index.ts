import type { FastifyInstance } from 'fastify';
import { readCookie } from '../../../auth/tokens/cookie.js';
import { readConsoleSession } from '../../../ims/console-sessions.js';
import { registerConsole } from '../../console/register.js';
import type { CsrfTokenIssuer } from '../../csrf.js';
import type { ImsAdminDeps } from '../ims-admin.js';
import { environmentRoutes } from './environment.js';
import { MOUNT, SESSION_COOKIE, SIGN_IN_PATH, SIGN_OUT_PATH } from './guard.js';
import { organizationRoutes } from './organizations.js';
import { sessionCookie, signInRoutes } from './sign-in.js';

/** The IMS admin API's services (the console's forms call the same operations), and: */
export interface DeveloperConsoleDeps extends ImsAdminDeps {
  readonly csrf: CsrfTokenIssuer;
  /** Whether the IMS speaks HTTPS (the session cookie is then Secure). */
  readonly secure: boolean;
}

/**
 * The IMS Developer Console at `/ims/console`: sign-in for IMS administrators and developers,
 * organizations → programs → environments, and per environment its integrations, service
 * credentials, local development tokens and developers.
 */
export async function developerConsole(app: FastifyInstance, deps: DeveloperConsoleDeps) {
  await registerConsole(
    app,
    {
      mount: MOUNT,
      name: 'Developer Console',
      signInPath: SIGN_IN_PATH,
      chrome: (request) => {
        const user = request.consoleUser;
        return {
          console: { name: 'Developer Console', mount: MOUNT, signOut: SIGN_OUT_PATH },
          user: user ? { id: user.id, admin: user.admin } : undefined,
          nav: [],
          csrf: user ? deps.csrf.tokenFor(request) : undefined,
        };
      },
    },
    async (scope) => {
      // Who is signed in: the session cookie, checked against the store on every request (a
      // sign-out, an expiry or a new password ends it at once).
      scope.addHook('onRequest', async (request, reply) => {
        const cookie = readCookie(request.headers.cookie, SESSION_COOKIE);
        if (cookie === undefined) return;
        request.consoleUser = (await readConsoleSession(deps.store, cookie)) ?? null;
        if (!request.consoleUser) reply.header('set-cookie', sessionCookie('', deps.secure, 0));
      });
      signInRoutes(scope, deps);
      organizationRoutes(scope, deps.store);
      environmentRoutes(scope, deps);
    },
  );
}
