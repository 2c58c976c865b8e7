import { hostname } from 'node:os';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { AuditLog } from '../audit/log.js';
import { openServerAuditLog } from '../audit/open.js';
import { runAudited } from '../audit/record.js';
import type { Config } from '../config/load.js';
import { KeyringHolder } from '../crypto/holder.js';
import { cryptoDirOf, loadKeyring } from '../crypto/load-keyring.js';
import { CHANGE } from '../farm/changes.js';
import { followChanges } from '../farm/follow.js';
import { cryptoCheck } from '../health/crypto-check.js';
import { storeCheck } from '../health/store-check.js';
import { buildImsApp } from '../http/ims-app.js';
import { ACCESS_TOKEN_LIFETIME_MS } from '../ims/access-token.js';
import { ensureImsAdmin } from '../ims/administrators.js';
import { bootstrapIms } from '../ims/bootstrap.js';
import { type PublicUrl, readPublicUrl, resolvePublicUrl } from '../ims/public-url.js';
import { SigningKeyRing } from '../ims/signing-keys.js';

const SIGNING_KEY_REFRESH_MS = 60_000;

import { openRoleStore } from '../data-folder/open-role-store.js';
import { secureDataFolder, warnRepairs } from '../fs/secure-folder.js';
import { limitHashing } from '../repository/users/password.js';
import type { Store } from '../store/types.js';
import { baseUrlOf, listen } from './listen.js';

export interface RunningIms {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly keys: KeyringHolder;
  /** Where the IMS records security events. */
  readonly audit: AuditLog;
  /** Where this process listens. */
  readonly url: string;
  /** The deployment's public URL (issuer, imsEndpoint), the same for every IMS process of the store. */
  readonly publicUrl: PublicUrl;
  /** The IMS admin password, when this start generated it (show it once). */
  readonly generatedAdminPassword: string | undefined;
  /** Whether this start created the IMS's `admin`. */
  readonly adminCreated: boolean;
  close(): Promise<void>;
}

/** Opens the IMS store and keys, makes sure an organization and p1-e1 exist, and listens. */
export async function startIms(
  config: Config,
  options: {
    logger?: FastifyServerOptions['logger'];
    listen?: boolean;
    /** The data folder is latchkey start's: the author's and the IMS's stores side by side. */
    quickstart?: boolean;
  } = {},
): Promise<RunningIms> {
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
    const location = { cryptoDir: cryptoDirOf(config.data), store };
    const keys = new KeyringHolder(
      location,
      await loadKeyring(location, { initialize: config.crypto.keyStorage }),
    );
    await bootstrapIms(store);
    const signing = new SigningKeyRing(
      store,
      keys.keyring,
      config.ims.accessTokenAlgorithm,
      ACCESS_TOKEN_LIFETIME_MS,
    );
    await signing.refresh();
    // A rotation made by the CLI or another IMS process on this store applies within a minute.
    const refresh = setInterval(() => {
      signing
        .refresh()
        .catch((err) => app?.log.warn({ err: String(err) }, 'signing keys not refreshed'));
    }, SIGNING_KEY_REFRESH_MS);
    refresh.unref();
    const admin = await runAudited({ log: auditLog, command: 'system' }, () =>
      ensureImsAdmin(store, config.adminPassword, config.security.passwordHashCost),
    );
    // One public URL (issuer, imsEndpoint) per deployment: the configured or recorded one is known
    // now; on a new store without a configured one, it is where this process ends up listening.
    let publicUrl: PublicUrl | undefined;
    const recorded = await readPublicUrl(store);
    if (config.ims.publicUrl !== undefined || recorded) {
      publicUrl = (
        await resolvePublicUrl(
          store,
          config.ims.publicUrl ?? recorded!.url,
          config.ims.publicUrl !== undefined,
        )
      ).publicUrl;
    }
    app = await buildImsApp({
      config,
      store,
      publicUrl: () => {
        if (!publicUrl) throw new Error('the IMS public URL is not known yet');
        return publicUrl;
      },
      signingKey: () => signing.current(),
      signingKeys: () => signing.published(),
      health: [storeCheck(store), cryptoCheck(keys)],
      keys,
      audit: auditLog,
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
    });
    let known: () => void = () => {};
    const knownNow = new Promise<void>((resolve) => {
      known = resolve;
    });
    // Only between listening and recording the URL on a new store: requests wait for it.
    if (!publicUrl) app.addHook('onRequest', async () => (publicUrl ? undefined : knownNow));
    // A rotation made by the CLI or another IMS process of the store is announced: pick it up now.
    const log = app.log;
    const unfollow = followChanges(
      store,
      {
        [CHANGE.signingKeys]: () => {
          signing
            .refresh()
            .catch((err) => log.warn({ err: String(err) }, 'signing keys not refreshed'));
        },
        [CHANGE.keys]: () => {
          keys
            .reload({ announce: false })
            .catch((err) => log.warn({ err: String(err) }, 'keys not reloaded'));
        },
      },
      { log },
    );
    app.addHook('onClose', () => {
      unfollow();
      return auditLog.close();
    });
    const url = await listen(app, config, options.listen !== false);
    if (url) auditLog.options.instance = `${hostname()}:${new URL(url).port}`;
    if (!publicUrl) {
      publicUrl = (await resolvePublicUrl(store, url || baseUrlOf(config), false)).publicUrl;
      known();
    }
    if (url && publicUrl.url !== url && config.ims.publicUrl === undefined) {
      app.log.warn(
        `this IMS listens on ${url}, but the deployment's public URL is ${publicUrl.url} (recorded in its store): tokens name ${publicUrl.issuer} as issuer and new credentials name ${publicUrl.imsEndpoint}. If the IMS moved, run latchkey ims public-url ${url} and restart it`,
      );
    }
    const running = app;
    return {
      app: running,
      store,
      keys,
      audit: auditLog,
      url,
      publicUrl,
      generatedAdminPassword: admin.generatedPassword,
      adminCreated: admin.created,
      close: async () => {
        clearInterval(refresh);
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
