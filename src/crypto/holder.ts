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

  async reload(): Promise<Keyring> {
    this.#keyring = await loadKeyring(this.location, { initialize: false });
    return this.#keyring;
  }
}
