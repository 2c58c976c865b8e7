import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../fs/atomic-write.js';
import { CryptoError } from '../errors.js';

/** `Bundle`: key files in the crypto folder. `JCR`: binary properties on `/etc/key` (legacy). */
export type StorageMode = 'Bundle' | 'JCR';

export function storageFile(cryptoDir: string): string {
  return join(cryptoDir, 'storage');
}

/**
 * Reads the `storage` file. Surrounding whitespace and a trailing newline are tolerated (AEM
 * itself cannot read a file ending in a newline); any other content is an error naming the file.
 * `undefined` when there is no such file.
 */
export function readStorageMode(cryptoDir: string): StorageMode | undefined {
  let text: string;
  try {
    text = readFileSync(storageFile(cryptoDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const value = text.trim();
  if (value === 'Bundle' || value === 'JCR') return value;
  throw new CryptoError(
    'invalid_storage',
    `${storageFile(cryptoDir)} must contain Bundle or JCR, found ${JSON.stringify(value.slice(0, 40))}`,
  );
}

/** Writes `Bundle` or `JCR` exactly, without a newline, atomically (creating the folder). */
export function writeStorageMode(cryptoDir: string, mode: StorageMode): void {
  mkdirSync(cryptoDir, { recursive: true, mode: 0o700 });
  writeFileAtomic(storageFile(cryptoDir), mode, 0o600);
}
