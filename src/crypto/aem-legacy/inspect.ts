import { join } from 'node:path';
import { MAX_KEY_FILE_BYTES, readSmallFile } from '../../fs/read-small-file.js';
import { fingerprint } from '../key-id.js';
import {
  type FelixBundle,
  FILE_BUNDLE,
  findCryptoBundles,
  SUPPORT_BUNDLE,
} from './find-bundles.js';

export interface AemKeyFile {
  readonly name: 'master' | 'hmac';
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

export interface AemInspection {
  readonly supportBundle: FelixBundle | undefined;
  readonly fileBundle: FelixBundle | undefined;
  readonly storage: {
    readonly path: string | undefined;
    readonly present: boolean;
    /** Exactly what the file holds, trimmed for display. */
    readonly value: string | undefined;
    /** AEM cannot read a storage file that ends with a newline. */
    readonly trailingNewline: boolean;
  };
  readonly keyFiles: readonly AemKeyFile[];
  /** Which storage AEM will use: key files (Bundle), /etc/key (JCR), or unknown. */
  readonly inEffect: 'Bundle' | 'JCR' | 'unknown';
  readonly problems: readonly string[];
}

function readKey(dir: string, name: 'master' | 'hmac', problems: string[]): AemKeyFile | undefined {
  const path = join(dir, name);
  try {
    const bytes = readSmallFile(path, MAX_KEY_FILE_BYTES);
    return { name, path, bytes: bytes.length, sha256: fingerprint(bytes) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') problems.push(`cannot read ${path} as a key file (${code})`);
    return undefined;
  }
}

/**
 * Looks at an AEM install without changing it: finds the crypto bundles through their
 * bundle.info files, reads the `storage` file (noting a trailing newline), lists the key files
 * with SHA-256 fingerprints and says which storage is in effect.
 */
export function inspectAem(crxQuickstart: string): AemInspection {
  const { support, file } = findCryptoBundles(crxQuickstart);
  const problems: string[] = [];
  if (!support) problems.push(`no ${SUPPORT_BUNDLE} bundle found (no bundle.info names it)`);
  if (!file) problems.push(`no ${FILE_BUNDLE} bundle found (no bundle.info names it)`);

  const storagePath = support ? join(support.dataDir, 'storage') : undefined;
  let raw: string | undefined;
  if (storagePath) {
    try {
      raw = readSmallFile(storagePath, MAX_KEY_FILE_BYTES).toString('utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') problems.push(`cannot read ${storagePath} (${code})`);
      raw = undefined;
    }
  }
  const value = raw?.trim();
  const trailingNewline = raw !== undefined && /[\r\n]$/.test(raw);
  if (support && raw === undefined) problems.push(`no storage file at ${storagePath}`);
  if (trailingNewline) {
    problems.push(
      'the storage file ends with a newline, which AEM cannot read (latchkey aem migrate-keys writes it correctly)',
    );
  }
  if (value !== undefined && value !== 'Bundle' && value !== 'JCR') {
    problems.push(
      `the storage file holds ${JSON.stringify(value.slice(0, 40))}, neither Bundle nor JCR`,
    );
  }

  const keyFiles = file
    ? (['master', 'hmac'] as const).flatMap((n) => readKey(file.dataDir, n, problems) ?? [])
    : [];
  let inEffect: AemInspection['inEffect'] = 'unknown';
  if (raw !== undefined && !trailingNewline && value === 'Bundle') inEffect = 'Bundle';
  if (raw !== undefined && !trailingNewline && value === 'JCR') inEffect = 'JCR';
  if (inEffect === 'Bundle') {
    for (const name of ['master', 'hmac'] as const) {
      if (!keyFiles.some((k) => k.name === name)) {
        problems.push(
          `storage is Bundle but ${file ? join(file.dataDir, name) : name} is missing: AEM will generate a new ${name} key`,
        );
      }
    }
  }
  if (inEffect === 'JCR') {
    problems.push(
      'keys are read from the repository (/etc/key): move them to files with latchkey aem migrate-keys',
    );
  }
  return {
    supportBundle: support,
    fileBundle: file,
    storage: { path: storagePath, present: raw !== undefined, value, trailingNewline },
    keyFiles,
    inEffect,
    problems,
  };
}
