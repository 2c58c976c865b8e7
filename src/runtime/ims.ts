import { mkdirSync } from 'node:fs';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { Config } from '../config/load.js';
import { KeyringHolder } from '../crypto/holder.js';
import { cryptoDirOf, loadKeyring } from '../crypto/load-keyring.js';
import { cryptoCheck } from '../health/crypto-check.js';
import { storeCheck } from '../health/store-check.js';
import { buildImsApp } from '../http/ims-app.js';
import { ACCESS_TOKEN_LIFETIME_MS } from '../ims/access-token.js';
import { ensureImsAdmin } from '../ims/administrators.js';
import { bootstrapIms } from '../ims/bootstrap.js';
import { NS } from '../ims/model.js';
import { SigningKeyRing } from '../ims/signing-keys.js';

const SIGNING_KEY_REFRESH_MS = 60_000;

import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { listen } from './listen.js';

export interface RunningIms {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly keys: KeyringHolder;
  readonly url: string;
  /** The IMS admin password, when this start generated it (show it once). */
  readonly generatedAdminPassword: string | undefined;
  /** Whether this start created the IMS's `admin`. */
  readonly adminCreated: boolean;
  close(): Promise<void>;
}

/** Opens the IMS store and keys, makes sure an organization and p1-e1 exist, and listens. */
export async function startIms(
  config: Config,
  options: { logger?: FastifyServerOptions['logger']; listen?: boolean } = {},
): Promise<RunningIms> {
  mkdirSync(config.data, { recursive: true, mode: 0o700 });
  const store = await openStore(config.db);
  let app: FastifyInstance | undefined;
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
    const scheme = config.tls ? 'https' : 'http';
    let baseUrl = `${scheme}://${config.ims.publicEndpoint}`;
    const admin = await ensureImsAdmin(
      store,
      config.adminPassword,
      config.security.passwordHashCost,
    );
    app = await buildImsApp({
      config,
      store,
      baseUrl: () => baseUrl,
      admin: {
        store,
        signingKey: () => signing.current(),
        publicEndpoint: () => baseUrl.replace(/^https?:\/\//, ''),
        issuer: () => `${baseUrl}/ims`,
        passwordHashCost: config.security.passwordHashCost,
      },
      exchange: {
        store,
        signingKey: () => signing.current(),
        issuer: `${scheme}://${config.ims.publicEndpoint}/ims`,
      },
      signingKeys: () => signing.published(),
      health: [storeCheck(store), cryptoCheck(keys)],
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
    });
    const url = await listen(app, config, options.listen !== false);
    if (url) {
      // Credentials created later (by the CLI too) name where this IMS really is.
      const endpoint = config.ims.publicEndpointSet
        ? config.ims.publicEndpoint
        : url.replace(/^https?:\/\//, '');
      await store.putRecord(NS.meta, 'publicEndpoint', endpoint);
      baseUrl = `${scheme}://${endpoint}`;
    }
    const running = app;
    return {
      app: running,
      store,
      keys,
      url,
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
    await store.close().catch(() => {});
    throw err;
  }
}
