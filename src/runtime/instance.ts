import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../audit/log.js';
import { runAudited } from '../audit/record.js';
import { basicHandler } from '../auth/authenticate.js';
import { bearerHandler } from '../auth/bearer/handler.js';
import { ImsConnection, TrustedClient } from '../auth/bearer/ims-connection.js';
import { JwksCache } from '../auth/bearer/jwks-cache.js';
import { RevocationPoller } from '../auth/bearer/revocations.js';
import { CredentialThrottle } from '../auth/throttle.js';
import { type TokenServices, tokenHandler } from '../auth/tokens/handler.js';
import { TokenSettingsCache } from '../auth/tokens/settings.js';
import { VerifiedPasswords } from '../auth/verified-passwords.js';
import { TtlCache } from '../cache/ttl-cache.js';
import type { Config } from '../config/load.js';
import { KeyringHolder } from '../crypto/holder.js';
import { cryptoDirOf, loadKeyring } from '../crypto/load-keyring.js';
import { ConfigError } from '../errors.js';
import { CHANGE } from '../farm/changes.js';
import { followChanges } from '../farm/follow.js';
import { UserSubscription } from '../farm/user-subscription.js';
import { cryptoCheck } from '../health/crypto-check.js';
import { imsCheck } from '../health/ims-check.js';
import { imsConfigCheck } from '../health/ims-config-check.js';
import { protectedConfigCheck } from '../health/protected-config-check.js';
import { storeCheck } from '../health/store-check.js';
import { buildInstanceApp } from '../http/instance-app.js';
import { watchCache } from '../metrics/registry.js';
import { bootstrapRepository, isRepositoryInitialized } from '../repository/bootstrap.js';
import { createRepositoryContext, type RepositoryContext } from '../repository/context.js';
import { UserStatusCache } from '../repository/users/user-status.js';
import type { Store } from '../store/types.js';
import { type AdminAccount, type AdminsCreated, createAdmin } from './admin.js';
import { listen } from './listen.js';
import { openServerStore, type ServerStartOptions } from './open-server-store.js';

export interface RunningInstance {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly ctx: RepositoryContext;
  /** The store's `admin` (see {@link AdminAccount}). */
  readonly admin: AdminAccount;
  /** What this start created: the admin, unless `createAdmin: false` or it existed. */
  readonly adminCreated: AdminsCreated;
  readonly keys: KeyringHolder;
  /** Where the instance records security events. */
  readonly audit: AuditLog;
  /** Base URL, e.g. `http://127.0.0.1:4502`. */
  readonly url: string;
  close(): Promise<void>;
}

const PURGE_EVERY_MS = 60_000;

/**
 * Opens the store, builds the instance app, starts listening and then, on first start,
 * initializes the store with its admin (password `config.adminPassword` or generated: see
 * `adminCreated`), unless `createAdmin` is false (the caller creates it through `admin`). On
 * failure everything opened so far is closed again.
 */
export async function startInstance(
  config: Config,
  options: ServerStartOptions = {},
): Promise<RunningInstance> {
  // Checked before anything is written, as every configuration error.
  const imsCa = readImsCa(config);
  let app: FastifyInstance | undefined;
  // Before anything is written: a folder or store of another role is refused, unchanged.
  const { store, auditLog } = await openServerStore(config, options, () => app);
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
    const admin: AdminAccount = {
      exists: () => isRepositoryInitialized(store),
      create: (adminPassword) =>
        runAudited({ log: auditLog, command: 'system' }, () =>
          bootstrapRepository(ctx, { role: config.role, adminPassword }),
        ),
    };
    // Calls to the IMS (its keys, its revocation list) and to IMS configurations' endpoints, with
    // the trust configured for them (ims.ca: latchkey start's local CA, for one).
    const client = new TrustedClient({ ca: imsCa, timeoutMs: 4000 });
    const imsConnection = config.ims.url ? new ImsConnection(config.ims.url, client) : undefined;
    const jwks = imsConnection ? new JwksCache(imsConnection) : undefined;
    const revocations = imsConnection
      ? new RevocationPoller(imsConnection, (err) =>
          app?.log.warn({ reason: err.kind }, `IMS revocation list not refreshed: ${err.message}`),
        )
      : undefined;
    await revocations?.start(config.ims.revocationPollMs);
    const tokens: TokenServices = {
      ctx,
      keys,
      settings: new TokenSettingsCache(store, config.repository.aclCacheMs),
      users: new UserStatusCache(ctx, config.tokens.userCacheMs),
      statefulTokens: new TtlCache({
        ttlMs: config.tokens.userCacheMs,
        max: 100_000,
        scope: () => ctx.access.generation,
      }),
      maxPerUser: config.tokens.maxPerUser,
      secure: config.tls !== undefined || config.tokens.secureCookie,
      bindAddress: config.tokens.bindAddress,
    };
    watchCache('access', ctx.access.stats);
    watchCache('user-status', tokens.users.stats);
    watchCache('token-settings', tokens.settings.stats);
    watchCache('stateful-tokens', tokens.statefulTokens.stats);
    const verifiedPasswords = new VerifiedPasswords(ctx, config.security.basicCacheMs);
    watchCache('basic-credentials', verifiedPasswords.stats);
    const throttle = new CredentialThrottle(config.throttle, Date.now, options.accounts);
    app = await buildInstanceApp({
      config,
      ctx,
      auth: [
        basicHandler(ctx, throttle, verifiedPasswords),
        bearerHandler({
          ctx,
          jwks,
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
        imsConfigCheck(keys, client.fetch),
        ...(imsConnection && jwks ? [imsCheck(imsConnection, jwks, revocations)] : []),
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
        [CHANGE.loginTokens]: () => tokens.statefulTokens.clear(),
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
    const subscription =
      config.users.source === undefined
        ? undefined
        : new UserSubscription(ctx, {
            source: config.users.source,
            user: config.users.sourceUser,
            password: config.users.sourcePassword ?? '',
            caFile: config.users.sourceCa,
            intervalMs: config.users.pullMs,
            log,
            auditLog,
          });
    const purge = setInterval(() => {
      store.purgeExpired().catch((err) => app?.log.warn({ err }, 'purging expired records failed'));
    }, PURGE_EVERY_MS);
    purge.unref();
    app.addHook('onClose', async () => {
      clearInterval(purge);
      unfollow();
      revocations?.stop();
      client.close();
      await subscription?.stop();
      await auditLog.close();
    });
    const url = await listen(app, config, options.listen !== false);
    if (url) auditLog.options.instance = `${hostname()}:${new URL(url).port}`;
    // Last: a start that failed before created no admin whose password nobody saw.
    const adminCreated =
      options.createAdmin === false
        ? { created: [], generatedPassword: undefined }
        : await createAdmin(config.role, admin, config.adminPassword);
    // After the repository exists: the first pull finds the base tree in place.
    subscription?.start();
    const running = app;
    return {
      app: running,
      store,
      ctx,
      admin,
      adminCreated,
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

/** The CA certificates `ims.ca` names (PEM text), or a clear error naming the option. */
function readImsCa(config: Config): string | undefined {
  if (!config.ims.ca) return undefined;
  try {
    return readFileSync(config.ims.ca, 'utf8');
  } catch (err) {
    throw new ConfigError(
      'ims.ca',
      `ims.ca: cannot read ${config.ims.ca} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}
