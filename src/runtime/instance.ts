import { hostname } from 'node:os';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { AuditLog } from '../audit/log.js';
import { openServerAuditLog } from '../audit/open.js';
import { runAudited } from '../audit/record.js';
import { basicHandler } from '../auth/authenticate.js';
import { bearerHandler } from '../auth/bearer/handler.js';
import { JwksCache } from '../auth/bearer/jwks-cache.js';
import { RevocationPoller } from '../auth/bearer/revocations.js';
import { CredentialThrottle } from '../auth/throttle.js';
import { type TokenServices, tokenHandler } from '../auth/tokens/handler.js';
import { TokenSettingsCache } from '../auth/tokens/settings.js';
import type { Config } from '../config/load.js';
import { KeyringHolder } from '../crypto/holder.js';
import { cryptoDirOf, loadKeyring } from '../crypto/load-keyring.js';
import { openRoleStore } from '../data-folder/open-role-store.js';
import { CHANGE } from '../farm/changes.js';
import { followChanges } from '../farm/follow.js';
import { secureDataFolder, warnRepairs } from '../fs/secure-folder.js';
import { cryptoCheck } from '../health/crypto-check.js';
import { imsConfigCheck, protectedConfigCheck } from '../health/protected-config-check.js';
import { storeCheck } from '../health/store-check.js';
import { buildInstanceApp } from '../http/instance-app.js';
import { type BootstrapResult, bootstrapRepository } from '../repository/bootstrap.js';
import { createRepositoryContext, type RepositoryContext } from '../repository/context.js';
import { limitHashing } from '../repository/users/password.js';
import { UserStatusCache } from '../repository/users/user-status.js';
import type { Store } from '../store/types.js';
import { listen } from './listen.js';

export interface RunningInstance {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly ctx: RepositoryContext;
  readonly bootstrap: BootstrapResult;
  readonly keys: KeyringHolder;
  /** Where the instance records security events. */
  readonly audit: AuditLog;
  /** Base URL, e.g. `http://127.0.0.1:4502`. */
  readonly url: string;
  close(): Promise<void>;
}

const PURGE_EVERY_MS = 60_000;

/**
 * Opens the store, initializes it on first start, builds the instance app and starts listening.
 * On failure everything opened so far is closed again.
 */
export async function startInstance(
  config: Config,
  options: {
    logger?: FastifyServerOptions['logger'];
    listen?: boolean;
    /** The data folder is latchkey start's: the author's and the IMS's stores side by side. */
    quickstart?: boolean;
  } = {},
): Promise<RunningInstance> {
  // Before anything is written: a folder or store of another role is refused, unchanged.
  const store = await openRoleStore(config, {
    create: true,
    quickstart: options.quickstart === true,
  });
  // The data folder holds the store and the keys: private, whatever it was before.
  warnRepairs(secureDataFolder(config.data));
  limitHashing({
    maxConcurrent: config.security.maxConcurrentHashes,
    maxQueued: config.security.maxQueuedHashes,
  });
  let app: FastifyInstance | undefined;
  const auditLog = openServerAuditLog(config, store, (err) =>
    app?.log.warn({ err: String(err) }, 'audit log not written'),
  );
  try {
    const ctx = createRepositoryContext(store, {
      passwordHashCost: config.security.passwordHashCost,
      maxRenderNodes: config.http.maxRenderNodes,
      aclCacheMs: config.repository.aclCacheMs,
    });
    const location = { cryptoDir: cryptoDirOf(config.data), store };
    // Before anything else touches the store: refuses to start when keys it depends on are gone.
    const keys = new KeyringHolder(
      location,
      await loadKeyring(location, { initialize: config.crypto.keyStorage }),
    );
    const bootstrap = await runAudited({ log: auditLog, command: 'system' }, () =>
      bootstrapRepository(ctx, { role: config.role, adminPassword: config.adminPassword }),
    );
    const revocations = config.ims.url
      ? new RevocationPoller(config.ims.url, (err) =>
          app?.log.warn({ err: String(err) }, 'IMS revocation list not refreshed'),
        )
      : undefined;
    await revocations?.start(config.ims.revocationPollMs);
    const tokens: TokenServices = {
      ctx,
      keys,
      settings: new TokenSettingsCache(store, config.repository.aclCacheMs),
      users: new UserStatusCache(ctx, config.tokens.userCacheMs),
      maxPerUser: config.tokens.maxPerUser,
      secure: config.tls !== undefined || config.tokens.secureCookie,
      bindAddress: config.tokens.bindAddress,
    };
    const throttle = new CredentialThrottle(config.throttle);
    app = await buildInstanceApp({
      config,
      ctx,
      auth: [
        basicHandler(ctx, throttle),
        bearerHandler({
          ctx,
          jwks: config.ims.url ? new JwksCache(config.ims.url) : undefined,
          environment: config.environment,
          users: tokens.users,
          revocations,
        }),
        tokenHandler(tokens),
      ],
      tokens,
      throttle,
      health: [
        storeCheck(store),
        cryptoCheck(keys),
        protectedConfigCheck(keys),
        imsConfigCheck(keys),
      ],
      keys,
      audit: auditLog,
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
    });
    // Other processes sharing the store (and the IMS, when its schema is in the same PostgreSQL
    // database) announce their changes: drop what they made stale now, not at its time to live.
    const log = app.log;
    const unfollow = followChanges(
      store,
      {
        [CHANGE.access]: () => ctx.access.drop(),
        [CHANGE.tokenSettings]: () => tokens.settings.drop(),
        [CHANGE.revocation]: () => void revocations?.pollSoon(),
        [CHANGE.keys]: () => {
          keys
            .reload({ announce: false })
            .catch((err) => log.warn({ err: String(err) }, 'keys not reloaded'));
        },
      },
      { fromAnyStore: [CHANGE.revocation], log },
    );
    const purge = setInterval(() => {
      store.purgeExpired().catch((err) => app?.log.warn({ err }, 'purging expired records failed'));
    }, PURGE_EVERY_MS);
    purge.unref();
    app.addHook('onClose', async () => {
      clearInterval(purge);
      unfollow();
      revocations?.stop();
      await auditLog.close();
    });
    const url = await listen(app, config, options.listen !== false);
    if (url) auditLog.options.instance = `${hostname()}:${new URL(url).port}`;
    const running = app;
    return {
      app: running,
      store,
      ctx,
      bootstrap,
      keys,
      audit: auditLog,
      url,
      close: async () => {
        await running.close();
        await store.close();
      },
    };
  } catch (err) {
    await app?.close().catch(() => {});
    await auditLog.close().catch(() => {});
    await store.close().catch(() => {});
    throw err;
  }
}
