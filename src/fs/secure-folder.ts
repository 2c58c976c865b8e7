import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** A file or folder whose mode was too open, and what it became. */
export interface ModeRepair {
  readonly path: string;
  readonly was: number;
  readonly now: number;
}

const MAX_ENTRIES = 10_000;

/**
 * Makes latchkey's data folder private, as OpenSSH insists on for private keys: the folder and
 * every folder in it 0700, every file 0600, also when they existed before with looser modes (a
 * pre-existing 0755 folder let any local user read the store, with every password hash and, in
 * repository key storage, the keys). Returns what was repaired, for the caller to warn about.
 * Symbolic links are left alone (their target is not latchkey's to change).
 */
export function secureDataFolder(dir: string): ModeRepair[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const repairs: ModeRepair[] = [];
  let seen = 0;
  const visit = (path: string) => {
    if (++seen > MAX_ENTRIES) return;
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (!stat || stat.isSymbolicLink()) return;
    const want = stat.isDirectory() ? 0o700 : 0o600;
    const mode = stat.mode & 0o777;
    if ((stat.isDirectory() || stat.isFile()) && (mode & 0o077) !== 0) {
      chmodSync(path, mode & want);
      repairs.push({ path, was: mode, now: mode & want });
    }
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(dir);
  return repairs;
}

/** Prints each repair as a warning on stderr (before any server log exists). */
export function warnRepairs(repairs: readonly ModeRepair[]): void {
  for (const r of repairs) {
    process.stderr.write(
      `latchkey: warning: ${r.path} was accessible to other users (mode ${r.was.toString(8).padStart(4, '0')}); changed to ${r.now.toString(8).padStart(4, '0')}\n`,
    );
  }
}

/** Makes one store file and its SQLite companions (-wal, -shm, -journal) 0600 if they exist. */
export function secureStoreFiles(file: string): ModeRepair[] {
  const repairs: ModeRepair[] = [];
  for (const path of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (!stat?.isFile()) continue;
    const mode = stat.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      chmodSync(path, mode & 0o600);
      repairs.push({ path, was: mode, now: mode & 0o600 });
    }
  }
  return repairs;
}
