import type { KeyringHolder } from '../crypto/holder.js';
import { KEY_KINDS } from '../crypto/key-id.js';
import { readRegistry } from '../crypto/registry.js';
import type { HealthCheck } from './registry.js';

/** The keys in use include every key the store depends on (its key registry). */
export function cryptoCheck(holder: KeyringHolder): HealthCheck {
  return {
    name: 'crypto',
    async run() {
      const keyring = holder.keyring;
      const registry = await readRegistry(holder.location.store);
      const lost = KEY_KINDS.flatMap((kind) =>
        registry[kind].filter((id) => !keyring[kind].byId.has(id)).map((id) => `${kind} ${id}`),
      );
      if (lost.length > 0) {
        return {
          status: 'red',
          message: `keys missing: ${lost.join(', ')} (see latchkey keys status)`,
          fix: 'Import a key bundle that holds the missing keys (Crypto: Import, or latchkey keys import BUNDLE), or put their key files back, then Reload keys from storage on the Crypto tab. Never generate new keys: data sealed or signed with the missing ones would stay unreadable.',
        };
      }
      return {
        status: 'green',
        message: `master ${keyring.master.primary.id}, hmac ${keyring.hmac.primary.id}${keyring.aemMaster ? ', AEM master imported' : ''}`,
      };
    },
  };
}
