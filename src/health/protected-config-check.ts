import type { KeyringHolder } from '../crypto/holder.js';
import { checkProtectedConfigs } from '../protected-config/read.js';
import type { HealthCheck } from './registry.js';

/** Every protected configuration's secrets open with the keys in use. */
export function protectedConfigCheck(holder: KeyringHolder): HealthCheck {
  return {
    name: 'protected-configurations',
    async run() {
      const all = await checkProtectedConfigs(holder.location.store, holder.keyring);
      const bad = all.filter((c) => !c.decrypts);
      if (bad.length > 0) {
        return {
          status: 'red',
          message: bad.map((c) => `${c.kind}/${c.name}: ${c.problems.join('; ')}`).join(' | '),
        };
      }
      return { status: 'green', message: `${all.length} configuration(s), every secret opens` };
    },
  };
}

/**
 * Whether each IMS configuration can obtain a token from its IMS. This version has no IMS to
 * ask, so the check says it was not performed rather than pretending success.
 */
export function imsConfigCheck(holder: KeyringHolder): HealthCheck {
  return {
    name: 'ims-configurations',
    async run() {
      const ims = (await checkProtectedConfigs(holder.location.store, holder.keyring)).filter(
        (c) => c.kind === 'ims',
      );
      return {
        status: 'green',
        message: `${ims.length} IMS configuration(s); token exchange not checked (no IMS in this version)`,
      };
    },
  };
}
