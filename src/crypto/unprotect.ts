import { createDecipheriv } from 'node:crypto';
import { CryptoError } from './errors.js';
import type { Keyring } from './keyring.js';
import { IV_LENGTH, parseProtected, TAG_LENGTH } from './protected-format.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Opens a protected value, latchkey's (any master key version of the keyring) or AEM's legacy
 * format (with the imported AEM master key). Never returns garbage: a value that was modified,
 * truncated or sealed with another key fails with `tampered`, one sealed with a key this keyring
 * does not have fails with `unknown_key` naming the key id, anything else with
 * `malformed_protected_value`.
 */
export function unprotect(keyring: Keyring, value: string): string {
  const parsed = parseProtected(value);
  if (!parsed) {
    throw new CryptoError(
      'malformed_protected_value',
      'not a protected value ({lk1.<kid>.<data>} or AEM {hex})',
    );
  }
  if (parsed.format === 'lk1') {
    const key = keyring.master.byId.get(parsed.kid);
    if (!key) {
      throw new CryptoError(
        'unknown_key',
        `sealed with master key ${parsed.kid}, which this keyring does not have (restore it with latchkey keys import)`,
      );
    }
    if (parsed.data.length < IV_LENGTH + TAG_LENGTH)
      throw new CryptoError('tampered', 'protected value is truncated');
    const iv = parsed.data.subarray(0, IV_LENGTH);
    const tag = parsed.data.subarray(parsed.data.length - TAG_LENGTH);
    const ciphertext = parsed.data.subarray(IV_LENGTH, parsed.data.length - TAG_LENGTH);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.key, iv, { authTagLength: TAG_LENGTH });
      decipher.setAAD(parsed.aad);
      decipher.setAuthTag(tag);
      return utf8.decode(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
    } catch {
      throw new CryptoError(
        'tampered',
        'protected value failed authentication (modified, truncated or another key)',
      );
    }
  }
  if (!keyring.aemMaster) {
    throw new CryptoError(
      'unknown_key',
      'an AEM protected value needs the AEM master key (latchkey keys import-aem --master FILE)',
    );
  }
  try {
    const decipher = createDecipheriv('aes-128-cbc', keyring.aemMaster, parsed.iv);
    // PKCS#7 padding is checked by final(); with no MAC, the UTF-8 check catches most wrong keys.
    return utf8.decode(Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]));
  } catch {
    throw new CryptoError(
      'tampered',
      'AEM protected value does not decrypt with the imported AEM master key',
    );
  }
}
