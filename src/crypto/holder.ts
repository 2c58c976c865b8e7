import { announce, CHANGE } from '../farm/changes.js';
import type { Keyring } from './keyring.js';
import { type KeyLocation, loadKeyring } from './load-keyring.js';

/**
 * The keyring a running instance uses. {@link KeyringHolder.reload} re-reads the keys from
 * storage (after an import or a migration) without a restart; if that fails, the keys in use
 * stay in use.
 */
export class KeyringHolder {
  #keyring: Keyring;
  readonly location: KeyLocation;

  constructor(location: KeyLocation, keyring: Keyring) {
    this.location = location;
    this.#keyring = keyring;
  }

  get keyring(): Keyring {
    return this.#keyring;
  }

  /**
   * Re-reads the keys; unless `announce` is false (the reload answers another process's event),
   * tells every process sharing the store to re-read theirs (keys kept in the repository).
   */
  async reload(options: { announce?: boolean } = {}): Promise<Keyring> {
    this.#keyring = await loadKeyring(this.location, { initialize: false });
    if (options.announce !== false) await announce(this.location.store, CHANGE.keys);
    return this.#keyring;
  }
}
