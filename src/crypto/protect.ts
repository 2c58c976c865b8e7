import { createCipheriv, randomBytes } from 'node:crypto';
import type { Keyring } from './keyring.js';
import { FORMAT_TAG, IV_LENGTH } from './protected-format.js';

/**
 * Seals `plaintext` with the primary master key (AES-256-GCM, random 96-bit IV).
 *
 * @example
 * ```ts
 * const sealed = protect(keyring, 'client-secret'); // '{lk1.3f2a…​.Qm9…}'
 * unprotect(keyring, sealed); // 'client-secret'
 * ```
 */
export function protect(keyring: Keyring, plaintext: string): string {
  const key = keyring.master.primary;
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  cipher.setAAD(Buffer.from(`${FORMAT_TAG}.${key.id}`, 'ascii'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const data = Buffer.concat([iv, ciphertext, cipher.getAuthTag()]);
  return `{${FORMAT_TAG}.${key.id}.${data.toString('base64url')}}`;
}
