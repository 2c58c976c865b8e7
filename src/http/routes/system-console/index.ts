import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditSource } from '../../../audit/read.js';
import type { CredentialThrottle } from '../../../auth/throttle.js';
import type { TokenServices } from '../../../auth/tokens/handler.js';
import type { KeyringHolder } from '../../../crypto/holder.js';
import type { HealthCheck } from '../../../health/registry.js';
import type { RepositoryContext } from '../../../repository/context.js';
import { registerConsole } from '../../console/register.js';
import type { CsrfTokenIssuer } from '../../csrf.js';
import { LOGOUT_PATH } from '../login.js';
import { auditRoutes } from './audit.js';
import { configurationRoutes } from './configuration.js';
import { cryptoRoutes } from './crypto.js';
import { MOUNT, SIGN_IN_PATH, signedIn } from './guard.js';
import { healthRoutes } from './health.js';
import { repositoryRoutes } from './repository.js';
import { signInRoutes } from './sign-in.js';
import { usersRoutes } from './users.js';

export interface SystemConsoleDeps {
  readonly ctx: RepositoryContext;
  readonly tokens: TokenServices;
  readonly throttle: CredentialThrottle;
  readonly keys: KeyringHolder;
  readonly health: readonly HealthCheck[];
  readonly csrf: CsrfTokenIssuer;
  readonly maxPathLength: number;
  /** Where the instance's audit log is read (none: no Audit tab, in-process tests without one). */
  readonly audit?: AuditSource | undefined;
}

/** The tabs, in order; administrators see all, other users the repository browser only. */
const TABS = [
  { id: 'configuration', label: 'Configuration', href: `${MOUNT}/configMgr`, admin: true },
  { id: 'crypto', label: 'Crypto', href: `${MOUNT}/crypto`, admin: true },
  { id: 'health', label: 'Health', href: `${MOUNT}/health`, admin: true },
  { id: 'users', label: 'Users and groups', href: `${MOUNT}/users`, admin: true },
  { id: 'repository', label: 'Repository', href: `${MOUNT}/repository`, admin: false },
  { id: 'audit', label: 'Audit', href: `${MOUNT}/audit`, admin: true },
] as const;

/**
 * The instance's System Console at `/system/console`: sign-in, Configuration (the token
 * handler), Crypto, Health, Users and groups, the repository browser and the audit log. Pages
 * are rendered on the server; their forms carry the CSRF token as a hidden field.
 */
export async function systemConsole(app: FastifyInstance, deps: SystemConsoleDeps) {
  // No subject yet when a request was refused before authentication (a foreign origin).
  const signedInUser = (request: FastifyRequest) =>
    request.authRefusal || !request.subject || request.subject.anonymous
      ? undefined
      : request.subject;
  await registerConsole(
    app,
    {
      mount: MOUNT,
      name: 'System Console',
      signInPath: SIGN_IN_PATH,
      chrome: (request, current) => {
        const user = signedInUser(request);
        return {
          console: {
            name: 'System Console',
            mount: MOUNT,
            signOut: `${LOGOUT_PATH}?resource=${encodeURIComponent(SIGN_IN_PATH)}`,
          },
          user: user && { id: user.userId, admin: user.admin },
          nav: user
            ? TABS.filter((t) => (user.admin || !t.admin) && (t.id !== 'audit' || deps.audit)).map(
                (t) => ({
                  href: t.href,
                  label: t.label,
                  current: t.id === current,
                }),
              )
            : [],
          csrf: user ? deps.csrf.tokenFor(request) : undefined,
        };
      },
    },
    async (scope) => {
      scope.get(MOUNT, { schema: { hide: true } }, async (request, reply) => {
        const subject = signedIn(request);
        return reply
          .code(303)
          .header('location', subject.admin ? `${MOUNT}/configMgr` : `${MOUNT}/repository`)
          .send();
      });
      signInRoutes(scope, deps.tokens, deps.throttle);
      configurationRoutes(scope, deps.tokens.settings);
      cryptoRoutes(scope, deps.keys);
      healthRoutes(scope, deps.health);
      usersRoutes(scope, deps.ctx);
      repositoryRoutes(scope, deps.ctx, deps.maxPathLength);
      if (deps.audit) auditRoutes(scope, deps.audit);
    },
  );
}
