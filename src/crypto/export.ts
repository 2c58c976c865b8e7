import { existsSync } from 'node:fs';
import { audit } from '../audit/record.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { encodeBundle } from './bundle.js';
import { CryptoError } from './errors.js';
import { KEY_KINDS } from './key-id.js';
import { type KeyLocation, loadKeyring } from './load-keyring.js';

/**
 * Every key of the data folder (each version of both keys, and the AEM master key) as one
 * bundle's text, sealed when a passphrase is given. The System Console offers it as a download.
 */
export async function exportBundle(
  loc: KeyLocation,
  passphrase?: string,
  /** Where the bundle goes, for the audit log: a file name, or `download`. */
  destination = 'download',
): Promise<{ text: string; ids: string[] }> {
  const keyring = await loadKeyring(loc, { initialize: false });
  const keys = {
    master: [...keyring.master.byId.values()].map((v) => v.material),
    hmac: [...keyring.hmac.byId.values()].map((v) => v.material),
  };
  const text = await encodeBundle({ keys, aemMaster: keyring.aemMaster }, passphrase);
  const ids = KEY_KINDS.flatMap((k) => [...keyring[k].byId.keys()]);
  await audit({
    type: 'keys.exported',
    target: loc.cryptoDir,
    details: { file: destination, keys: ids, sealed: passphrase !== undefined },
  });
  return { text, ids };
}

/**
 * Writes every key of the data folder to one bundle file (0600), sealed when a passphrase is
 * given. Refuses to overwrite an existing file.
 */
export async function exportKeys(
  loc: KeyLocation,
  out: string,
  passphrase?: string,
): Promise<{ ids: string[] }> {
  if (existsSync(out))
    throw new CryptoError('invalid_request', `${out} exists already; choose another --out`);
  const { text, ids } = await exportBundle(loc, passphrase, out);
  writeFileAtomic(out, text, 0o600);
  return { ids };
}
