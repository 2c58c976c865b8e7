import type { Config } from '../config/load.js';
import { cryptoDirOf, loadKeyring } from '../crypto/load-keyring.js';
import { secureDataFolder, warnRepairs } from '../fs/secure-folder.js';
import { openStore } from '../store/open.js';

/** Loads (and on a new data folder creates) the keys through `config`'s store, then closes it. */
export async function initializeKeys(config: Config): Promise<void> {
  // The data folder holds the store and the keys: private, whatever it was before.
  warnRepairs(secureDataFolder(config.data));
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
