import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../audit/log.js';
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
import { ensureImsAdmin, hasImsAdmin } from '../ims/administrators.js';
import { bootstrapIms } from '../ims/bootstrap.js';
import { type PublicUrl, readPublicUrl, resolvePublicUrl } from '../ims/public-url.js';
import { SigningKeyRing } from '../ims/signing-keys.js';
import { revocations } from '../metrics/registry.js';

const SIGNING_KEY_REFRESH_MS = 60_000;

import type { Store } from '../store/types.js';
import { type AdminAccount, type AdminsCreated, createAdmin } from './admin.js';
import { baseUrlOf, listen } from './listen.js';
import { openServerStore, type ServerStartOptions } from './open-server-store.js';

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
  /** The IMS administrator `admin` (see {@link AdminAccount}). */
  readonly admin: AdminAccount;
  /** What this start created: the admin, unless `createAdmin: false` or it existed. */
  readonly adminCreated: AdminsCreated;
  close(): Promise<void>;
}

/**
 * Opens the IMS store and keys, makes sure an organization and p1-e1 exist, listens, and then
 * creates the administrator `admin` on a new store (password `config.adminPassword` or generated:
 * see `adminCreated`), unless `createAdmin` is false (the caller creates it through `admin`).
 */
export async function startIms(
  config: Config,
  options: ServerStartOptions = {},
): Promise<RunningIms> {
  let app: FastifyInstance | undefined;
  // Before anything is written: a folder or store of another role is refused, unchanged.
  const { store, auditLog } = await openServerStore(config, options, () => app);
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
    const admin: AdminAccount = {
      exists: () => hasImsAdmin(store),
      create: (password) =>
        runAudited({ log: auditLog, command: 'system' }, () =>
          ensureImsAdmin(store, password, config.security.passwordHashCost),
        ),
    };
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
      signingKeyOf: (kid) => signing.publishedKey(kid),
      health: [storeCheck(store), cryptoCheck(keys)],
      keys,
      audit: auditLog,
      ...(options.accounts !== undefined ? { accounts: options.accounts } : {}),
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
    // Revocations recorded by this process (those of the CLI count in no server's metrics).
    const unsubscribe = store.subscribe((event) => {
      if (event.local && event.kind === CHANGE.revocation)
        revocations.inc({ kind: event.key.slice(0, event.key.indexOf(':')) || 'other' });
    });
    app.addHook('onClose', () => {
      unsubscribe();
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
    // Last: a start that failed before created no admin whose password nobody saw.
    const adminCreated =
      options.createAdmin === false
        ? { created: [], generatedPassword: undefined }
        : await createAdmin('ims', admin, config.adminPassword);
    const running = app;
    return {
      app: running,
      store,
      keys,
      audit: auditLog,
      url,
      publicUrl,
      admin,
      adminCreated,
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
