import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../audit/log.js';
import { parseBasic } from '../auth/basic.js';
import { CredentialThrottle, type SharedAccounts, throttledCheck } from '../auth/throttle.js';
import type { Config } from '../config/load.js';
import type { KeyringHolder } from '../crypto/holder.js';
import type { HealthCheck } from '../health/registry.js';
import type { TokenIssuer } from '../ims/access-token.js';
import { authenticateImsAdmin } from '../ims/administrators.js';
import { ClientCache } from '../ims/client-cache.js';
import type { ExchangeDeps } from '../ims/exchange-jwt.js';
import type { PublicUrl } from '../ims/public-url.js';
import type { SigningKey } from '../ims/signing-keys.js';
import { watchCache } from '../metrics/registry.js';
import type { Store } from '../store/types.js';
import { createApp } from './create-app.js';
import { csrfProtection } from './csrf.js';
import type { LogTarget } from './logger.js';
import { healthRoutes } from './routes/health.js';
import { imsAdminRoutes } from './routes/ims-admin.js';
import { SESSION_COOKIE, SIGN_IN_PATH } from './routes/ims-console/guard.js';
import { developerConsole } from './routes/ims-console/index.js';
import { imsDiscoveryRoutes } from './routes/ims-discovery.js';
import { imsEndpoints } from './routes/ims-endpoints.js';
import { metricsRoute } from './routes/metrics.js';
import { reportThrottleEvents } from './throttle-events.js';

export interface ImsAppOptions {
  readonly config: Config;
  readonly store: Store;
  /**
   * The deployment's public URL (issuer, imsEndpoint), the same for every IMS process sharing the
   * store: see ims/public-url.ts. Called per request; it returns one object for the process.
   */
  readonly publicUrl: () => PublicUrl;
  /** The key that signs new access tokens. */
  readonly signingKey: () => SigningKey;
  /** The keys the JWKS publishes (and validation accepts). */
  readonly signingKeys: () => readonly SigningKey[];
  /** The published key a `kid` names (validation). */
  readonly signingKeyOf: (kid: string) => SigningKey | undefined;
  readonly health: readonly HealthCheck[];
  /** The IMS's keys: the hmac key binds the Developer Console's CSRF tokens. */
  readonly keys: KeyringHolder;
  readonly logger?: LogTarget;
  /** Where security events go (none: not recorded, in-process tests). */
  readonly audit?: AuditLog | undefined;
  /** Per-user throttle counters shared with an author in the same process (latchkey start). */
  readonly accounts?: SharedAccounts;
}

/**
 * The identity service as a Fastify app: Adobe's IMS endpoints, the OAuth ones, the metadata
 * documents, the admin API and `GET /system/health` (see the route files).
 */
export async function buildImsApp(options: ImsAppOptions): Promise<FastifyInstance> {
  const { config, store, publicUrl } = options;
  const app = await createApp(
    config,
    options.logger,
    {
      title: 'latchkey IMS',
      description:
        "The identity service: Adobe IMS's token endpoints, OAuth 2.0 and OpenID metadata, introspection and revocation, and the admin API.",
      path: '/ims/openapi.json',
    },
    options.audit && {
      log: options.audit,
      // Console users; administrators and clients name themselves when they authenticate.
      actorOf: (request) => request.consoleUser?.id,
    },
    // Its public URL's name is one of its own, wherever it was set.
    () => [publicUrl().url],
  );
  // Browsers send Basic credentials they cached (the admin API challenges for them): a write
  // from another origin's page is refused. The Developer Console's session cookie (sent to its
  // own paths only) makes a write need a CSRF token too, which its forms carry.
  app.decorateRequest('consoleUser', null);
  const csrf = csrfProtection(app, {
    allowedOrigins: config.security.allowedOrigins,
    tls: config.tls !== undefined,
    cookie: SESSION_COOKIE,
    keys: () => {
      const hmac = options.keys.keyring.hmac;
      return [hmac.primary, ...[...hmac.byId.values()].filter((k) => k !== hmac.primary)];
    },
    userOf: (request) => request.consoleUser?.id ?? 'anonymous',
    tokenExempt: new Set([SIGN_IN_PATH]),
  });
  // One throttle for every credential check of this IMS: administrators and clients.
  const throttle = new CredentialThrottle(config.throttle, Date.now, options.accounts);
  reportThrottleEvents(app, throttle);
  // The issuer of every token this process signs and the one it accepts: the deployment's public
  // URL (one source, ims/public-url.ts), known once this process listens and fixed from then on.
  let issuer: string | undefined;
  const tokenIssuer: TokenIssuer = {
    get issuer() {
      issuer ??= publicUrl().issuer;
      return issuer;
    },
    as: config.ims.asClaim,
  };
  // Authenticated clients, kept until a change event (or 30 s) says otherwise.
  const clients = new ClientCache(store);
  watchCache('ims-clients', clients.stats);
  app.addHook('onClose', async () => clients.close());
  const exchange: ExchangeDeps = {
    store,
    clients,
    signingKey: options.signingKey,
    tokenIssuer,
    audiences: () => [publicUrl().url, ...config.ims.audiences],
  };
  imsEndpoints(app, {
    store,
    exchange,
    signingKeys: options.signingKeys,
    signingKeyOf: options.signingKeyOf,
    publicUrl,
    throttle,
  });
  imsDiscoveryRoutes(app, publicUrl);
  imsAdminRoutes(app, {
    store,
    signingKey: options.signingKey,
    publicUrl,
    tokenIssuer,
    passwordHashCost: config.security.passwordHashCost,
    throttle,
  });
  healthRoutes(app, options.health);
  metricsRoute(app, '/ims/metrics', {
    allowFrom: config.metrics.allowFrom,
    // IMS administrators, with HTTP Basic as on the admin API (and throttled like it).
    isAdministrator: async (request) => {
      const basic = parseBasic(request.headers.authorization);
      return Boolean(
        basic &&
          (await throttledCheck(throttle, 'ims-admin', basic.user, request.ip, () =>
            authenticateImsAdmin(
              store,
              basic.user,
              basic.password,
              config.security.passwordHashCost,
            ),
          )),
      );
    },
    presentedCredentials: (request) => request.headers.authorization !== undefined,
  });
  await developerConsole(app, {
    store,
    publicUrl,
    signingKey: options.signingKey,
    tokenIssuer,
    throttle,
    passwordHashCost: config.security.passwordHashCost,
    csrf,
    secure: config.tls !== undefined,
  });
  return app;
}
