import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readSmallFile } from '../../fs/read-small-file.js';
import { CryptoError } from '../errors.js';

/** The two crypto bundles of an AEM install, as the seeds name them. */
export const SUPPORT_BUNDLE = 'com.adobe.granite.crypto';
export const FILE_BUNDLE = 'com.adobe.granite.crypto.file';

export interface FelixBundle {
  readonly id: number;
  readonly location: string;
  /** Symbolic name guessed from the location's file name (`…/com.x.y-1.2.3.jar` → `com.x.y`). */
  readonly name: string;
  /** `<crx-quickstart>/launchpad/felix/bundle<id>` */
  readonly dir: string;
  readonly dataDir: string;
}

export function felixDir(crxQuickstart: string): string {
  return join(crxQuickstart, 'launchpad', 'felix');
}

/**
 * Reads a Felix `bundle.info`: the bundle id on the first line and its location on the second
 * (blank and `#` lines skipped; more lines may follow: state, start level, modification time).
 */
export function parseBundleInfo(text: string): { id: number; location: string } | undefined {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const id = Number(lines[0]);
  const location = lines[1];
  if (!Number.isSafeInteger(id) || !location) return undefined;
  return { id, location };
}

function nameFromLocation(location: string): string {
  const file = location.slice(Math.max(location.lastIndexOf('/'), location.lastIndexOf(':')) + 1);
  return file.replace(/\.jar$/, '').replace(/-\d[\w.-]*$/, '');
}

/** Every bundle of `crx-quickstart/launchpad/felix` that has a readable bundle.info. */
export function listBundles(crxQuickstart: string): FelixBundle[] {
  const felix = felixDir(crxQuickstart);
  let entries: string[];
  try {
    entries = readdirSync(felix);
  } catch (err) {
    throw new CryptoError(
      'not_an_aem_install',
      `${crxQuickstart} is not a crx-quickstart folder: cannot read ${felix} (${(err as NodeJS.ErrnoException).code})`,
    );
  }
  const out: FelixBundle[] = [];
  for (const entry of entries) {
    if (!/^bundle\d+$/.test(entry)) continue;
    let text: string;
    try {
      text = readSmallFile(join(felix, entry, 'bundle.info'), 64 * 1024).toString('utf8');
    } catch {
      continue;
    }
    const info = parseBundleInfo(text);
    if (!info) continue;
    const dir = join(felix, entry);
    out.push({ ...info, name: nameFromLocation(info.location), dir, dataDir: join(dir, 'data') });
  }
  return out.sort((a, b) => a.id - b.id);
}

export function findCryptoBundles(crxQuickstart: string): {
  support: FelixBundle | undefined;
  file: FelixBundle | undefined;
} {
  const bundles = listBundles(crxQuickstart);
  return {
    support: bundles.find((b) => b.name === SUPPORT_BUNDLE),
    file: bundles.find((b) => b.name === FILE_BUNDLE),
  };
}
