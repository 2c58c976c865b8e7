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
          fix: 'A secret was sealed with a master key this instance lacks, or was altered: import the master key that sealed it (Crypto: Import, a bundle from the instance that has it), then Reload keys from storage; or post the secret again to /system/console/configs/<kind>/<name>.',
        };
      }
      return { status: 'green', message: `${all.length} configuration(s), every secret opens` };
    },
  };
}
