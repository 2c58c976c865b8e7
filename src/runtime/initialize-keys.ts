import type { Config } from '../config/load.js';
import { cryptoDirOf, loadKeyring } from '../crypto/load-keyring.js';
import { openRoleStore } from '../data-folder/open-role-store.js';
import { secureDataFolder, warnRepairs } from '../fs/secure-folder.js';

/**
 * Loads (and on a new data folder creates) the keys through `config`'s store, then closes it.
 * `quickstart`: the data folder is latchkey start's (author and IMS).
 */
export async function initializeKeys(config: Config, quickstart = false): Promise<void> {
  // Before anything is written: a folder or store of another role is refused, unchanged.
  const store = await openRoleStore(config, { create: true, quickstart });
  try {
    // The data folder holds the store and the keys: private, whatever it was before.
    warnRepairs(secureDataFolder(config.data));
    await loadKeyring(
      { cryptoDir: cryptoDirOf(config.data), store },
      { initialize: config.crypto.keyStorage },
    );
  } finally {
    await store.close();
  }
}
