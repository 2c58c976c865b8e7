import { mkdirSync } from 'node:fs';
import { audit } from '../audit/record.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { MAX_KEY_FILE_BYTES, readSmallFile } from '../fs/read-small-file.js';
import { CryptoError } from './errors.js';
import { keyId } from './key-id.js';
import { AEM_MASTER_LENGTH, KEY_LENGTH } from './keyring.js';
import { aemMasterFile, type KeyLocation, loadKeyring, readStoredKeys } from './load-keyring.js';
import { registerKeys } from './registry.js';
import { writeFileKeys } from './storage/file.js';
import { writeRepositoryKeys } from './storage/repository.js';

function readKeyFile(file: string, what: string): Buffer {
  try {
    return readSmallFile(file, MAX_KEY_FILE_BYTES);
  } catch (err) {
    throw new CryptoError(
      'invalid_key',
      `cannot read the ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}

/**
 * Imports AEM's key files: `master` (16 bytes, AES-128) opens AEM's legacy protected values
 * (`{hex}`); `hmac` (32 bytes) becomes the primary hmac key, so that this instance signs with the
 * key the AEM farm shares. Other lengths are refused, saying what was expected.
 */
export async function importAemKeys(
  loc: KeyLocation,
  files: { master: string; hmac?: string | undefined },
): Promise<{ aemMaster: string; hmac: string | undefined }> {
  const master = readKeyFile(files.master, 'AEM master');
  if (master.length !== AEM_MASTER_LENGTH) {
    throw new CryptoError(
      'invalid_key',
      `an AEM master key has ${AEM_MASTER_LENGTH} bytes; ${files.master} has ${master.length}`,
    );
  }
  const hmac = files.hmac ? readKeyFile(files.hmac, 'AEM hmac') : undefined;
  if (hmac && hmac.length !== KEY_LENGTH.hmac) {
    throw new CryptoError(
      'invalid_key',
      `an hmac key has ${KEY_LENGTH.hmac} bytes; ${files.hmac} has ${hmac.length}`,
    );
  }
  await loadKeyring(loc, { initialize: false }); // the existing set must be complete first
  mkdirSync(loc.cryptoDir, { recursive: true, mode: 0o700 });
  writeFileAtomic(aemMasterFile(loc.cryptoDir), master, 0o600);
  if (hmac) {
    const { mode, keys } = await readStoredKeys(loc);
    const next = { ...keys, hmac: [hmac, ...keys.hmac.filter((k) => !k.equals(hmac))] };
    if (mode === 'JCR') await loc.store.transaction((tx) => writeRepositoryKeys(tx, next));
    else writeFileKeys(loc.cryptoDir, next);
    await registerKeys(loc.store, { hmac: [keyId(hmac)] });
  }
  await audit({
    type: 'keys.imported',
    target: loc.cryptoDir,
    details: { source: 'aem', aemMaster: keyId(master), ...(hmac ? { hmac: keyId(hmac) } : {}) },
  });
  return { aemMaster: keyId(master), hmac: hmac ? keyId(hmac) : undefined };
}
