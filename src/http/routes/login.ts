import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { signIn } from '../../auth/sign-in.js';
import { signOut } from '../../auth/sign-out.js';
import type { CredentialThrottle } from '../../auth/throttle.js';
import { readCookie, TOKEN_COOKIE } from '../../auth/tokens/cookie.js';
import type { TokenServices } from '../../auth/tokens/handler.js';
import { userPath } from '../../repository/users/paths.js';
import { assertSameOrigin } from '../csrf.js';
import { field, readForm } from '../read-form.js';
import { loginSchemas } from '../schemas/instance.js';

/** Only same-site paths may be redirect targets (`/x`, never `//host` or `https://…`). */
export function safeRedirect(resource: string | undefined): string | undefined {
  if (
    resource === undefined ||
    !/^\/(?!\/)[\x21-\x7e]*$/.test(resource) ||
    resource.includes('\\')
  ) {
    return undefined;
  }
  return resource;
}

export const LOGOUT_PATH = '/system/sling/logout';

/**
 * AEM's login endpoints: `POST /j_security_check` (`j_username`, `j_password`, optional
 * `resource`) sets the `login-token` cookie; `POST /system/sling/logout` ends the session (GET
 * too, from the server's own pages); `GET /libs/granite/security/currentuser.json` says who is
 * signed in. Both writes are origin-checked (login CSRF), neither needs a CSRF token.
 */
export function loginRoutes(
  app: FastifyInstance,
  tokens: TokenServices,
  throttle: CredentialThrottle,
  origins: { allowedOrigins: readonly string[]; tls: boolean },
) {
  app.post('/j_security_check', { schema: loginSchemas.login }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const form = await readForm(request);
    const { subject, setCookie } = await signIn(tokens, throttle, {
      user: field(form, 'j_username') ?? '',
      password: field(form, 'j_password') ?? '',
      address: request.ip,
    });
    reply.header('set-cookie', setCookie);
    const target = safeRedirect(field(form, 'resource'));
    if (target) return reply.code(302).header('location', target).send();
    return reply.send({ authorizableId: subject.userId, home: userPath(subject.userId) });
  });

  const logout = async (
    request: FastifyRequest<{ Querystring: { resource?: string } }>,
    reply: FastifyReply,
  ) => {
    const token = readCookie(request.headers.cookie, TOKEN_COOKIE);
    reply.header('set-cookie', await signOut(tokens, token, request.subject, request.ip));
    const target = safeRedirect(request.query.resource);
    if (target) return reply.code(302).header('location', target).send();
    return reply.send({ loggedOut: true });
  };
  // POST is the way to log out (origin-checked like every write). GET stays for AEM's links, but
  // only from the server's own pages: an <img src=…/logout> elsewhere must not end a session.
  app.post<{ Querystring: { resource?: string } }>(
    LOGOUT_PATH,
    { schema: loginSchemas.logout('POST') },
    logout,
  );
  app.get<{ Querystring: { resource?: string } }>(
    LOGOUT_PATH,
    { schema: loginSchemas.logout('GET') },
    async (request, reply) => {
      assertSameOrigin(request, origins);
      return logout(request, reply);
    },
  );

  app.get(
    '/libs/granite/security/currentuser.json',
    { schema: loginSchemas.currentUser },
    async (request) => {
      const s = request.subject;
      return s.anonymous
        ? { authorizableId: 'anonymous', anonymous: true }
        : { authorizableId: s.userId, home: userPath(s.userId), anonymous: false, admin: s.admin };
    },
  );
}
