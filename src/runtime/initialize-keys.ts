import { mkdirSync } from 'node:fs';
import type { Config } from '../config/load.js';
import { cryptoDirOf, loadKeyring } from '../crypto/load-keyring.js';
import { openStore } from '../store/open.js';

/** Loads (and on a new data folder creates) the keys through `config`'s store, then closes it. */
export async function initializeKeys(config: Config): Promise<void> {
  mkdirSync(config.data, { recursive: true, mode: 0o700 });
  const store = await openStore(config.db);
  try {
    await loadKeyring(
      { cryptoDir: cryptoDirOf(config.data), store },
      { initialize: config.crypto.keyStorage },
    );
  } finally {
    await store.close();
  }
}
