import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../audit/log.js';
import type { AuthHandler, Credentials } from '../auth/authenticate.js';
import { createAuthenticator } from '../auth/authenticate.js';
import type { CredentialThrottle } from '../auth/throttle.js';
import { TokenRefusedError, type TokenServices } from '../auth/tokens/handler.js';
import type { Config } from '../config/load.js';
import type { KeyringHolder } from '../crypto/holder.js';
import type { HealthCheck } from '../health/registry.js';
import type { RepositoryContext } from '../repository/context.js';
import { ANONYMOUS, type Subject } from '../repository/subject.js';
import { createApp } from './create-app.js';
import { CSRF_TOKEN_PATH, csrfProtection } from './csrf.js';
import { clipForLog } from './log-limiter.js';
import type { LogTarget } from './logger.js';
import { authorizableRoutes } from './routes/authorizables.js';
import { configMgrRoutes } from './routes/config-mgr.js';
import { cryptoConsoleRoutes } from './routes/crypto-console.js';
import { cryptoKeysApiRoutes } from './routes/crypto-keys-api.js';
import { healthRoutes } from './routes/health.js';
import { LOGOUT_PATH, loginRoutes } from './routes/login.js';
import { metricsRoute } from './routes/metrics.js';
import { protectedConfigRoutes } from './routes/protected-configs.js';
import { slingRoutes } from './routes/sling.js';
import { SIGN_IN_PATH } from './routes/system-console/guard.js';
import { systemConsole } from './routes/system-console/index.js';
import { usersReplicationRoutes } from './routes/users-replication.js';
import { reportThrottleEvents } from './throttle-events.js';

export interface InstanceAppOptions {
  readonly config: Config;
  readonly ctx: RepositoryContext;
  readonly auth: readonly AuthHandler[];
  readonly health: readonly HealthCheck[];
  readonly keys: KeyringHolder;
  readonly tokens: TokenServices;
  /** Throttles every credential check of this app (the Basic handler in `auth` shares it). */
  readonly throttle: CredentialThrottle;
  /** Where log lines go (see {@link LogTarget}): `false` for none (tests). */
  readonly logger?: LogTarget;
  /** Where security events go (none: not recorded, in-process tests). */
  readonly audit?: AuditLog | undefined;
}

/**
 * The content instance (author or publish) as a Fastify app, not yet listening.
 *
 * @example
 * ```ts
 * const app = await buildInstanceApp({ config, ctx, auth: [basicHandler(ctx)], health: [storeCheck(store)] });
 * const res = await app.inject({ url: '/content.json', headers: { authorization: 'Basic …' } });
 * ```
 */
export async function buildInstanceApp(options: InstanceAppOptions): Promise<FastifyInstance> {
  const { config, ctx } = options;
  const app = await createApp(
    config,
    options.logger,
    {
      title: `latchkey ${config.role}`,
      description:
        'A content instance: the repository as Sling renders and changes it, users and groups, login tokens, the crypto console and configurations.',
      path: '/system/openapi.json',
    },
    options.audit && {
      log: options.audit,
      actorOf: (request) =>
        request.subject?.anonymous === false ? request.subject.userId : undefined,
    },
  );

  reportThrottleEvents(app, options.throttle);
  const csrf = csrfProtection(app, {
    allowedOrigins: config.security.allowedOrigins,
    tls: config.tls !== undefined,
    tokenPath: CSRF_TOKEN_PATH,
    keys: () => {
      const hmac = options.keys.keyring.hmac;
      return [hmac.primary, ...[...hmac.byId.values()].filter((k) => k !== hmac.primary)];
    },
    userOf: (request) => request.subject.userId,
    authenticatedByHeader: (request) => request.authenticatedByHeader,
    tokenExempt: new Set(['/j_security_check', LOGOUT_PATH, SIGN_IN_PATH]),
  });
  const authenticate = createAuthenticator(options.auth);
  // Reference-type decorations are shared between requests: start from null, set per request.
  app.decorateRequest('subject', null as unknown as Subject);
  app.decorateRequest('authRefusal', null);
  app.decorateRequest('authenticatedByHeader', false);
  app.addHook('onRequest', async (request, reply) => {
    const credentials: Credentials = {
      authorization: request.headers.authorization,
      cookie: request.headers.cookie,
      remoteAddress: request.ip,
    };
    try {
      const result = await authenticate(credentials);
      request.subject = result.subject;
      request.authenticatedByHeader = result.byHeader === true;
      if (result.setCookie) reply.header('set-cookie', result.setCookie);
    } catch (err) {
      if (!(err instanceof TokenRefusedError)) throw err;
      // A bad login-token: go on as anonymous (the login page must still work), clear the
      // cookie, and let repository access answer 401 with the reason.
      request.subject = ANONYMOUS;
      request.authRefusal = err;
      reply.header('set-cookie', err.headers['set-cookie']);
      app.warnings.write(
        request.log,
        `login-token refused ${request.ip}`,
        { reason: clipForLog(err.message) },
        'login-token refused',
      );
    }
  });

  healthRoutes(app, options.health);
  metricsRoute(app, '/system/metrics', {
    allowFrom: config.metrics.allowFrom,
    isAdministrator: (request) => request.subject.admin,
    presentedCredentials: (request) =>
      request.headers.authorization !== undefined || request.authRefusal !== null,
  });
  loginRoutes(app, options.tokens, options.throttle, {
    allowedOrigins: config.security.allowedOrigins,
    tls: config.tls !== undefined,
  });
  configMgrRoutes(app, options.tokens.settings);
  cryptoConsoleRoutes(app, options.keys);
  cryptoKeysApiRoutes(app, options.keys);
  protectedConfigRoutes(app, ctx, options.keys);
  authorizableRoutes(app, ctx, config.security.anonymous);
  usersReplicationRoutes(app, ctx);
  await systemConsole(app, {
    ctx,
    tokens: options.tokens,
    throttle: options.throttle,
    keys: options.keys,
    health: options.health,
    csrf,
    maxPathLength: config.http.maxPathLength,
    audit: options.audit?.sink.source,
  });
  slingRoutes(app, ctx, {
    anonymous: config.security.anonymous,
    maxPathLength: config.http.maxPathLength,
  });
  return app;
}
