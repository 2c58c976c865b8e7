import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeFileDurably, writeFileAtomic } from '../../fs/atomic-write.js';
import { KEY_KINDS, type KeyKind, keyId } from '../key-id.js';
import type { StoredKeys } from './types.js';

/**
 * Key files (storage `Bundle`): `<crypto>/master` and `<crypto>/hmac` hold the primary keys as raw
 * bytes; older versions sit in `<crypto>/retired/<kind>-<key id>`. Every file is 0600 and
 * written atomically; the folders are 0700.
 */
export function keyFile(cryptoDir: string, kind: KeyKind): string {
  return join(cryptoDir, kind);
}

export function retiredDir(cryptoDir: string): string {
  return join(cryptoDir, 'retired');
}

function readOptional(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function readFileKeys(cryptoDir: string): StoredKeys {
  const out: Record<KeyKind, Buffer[]> = { master: [], hmac: [] };
  let retired: string[] = [];
  try {
    retired = readdirSync(retiredDir(cryptoDir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const kind of KEY_KINDS) {
    const primary = readOptional(keyFile(cryptoDir, kind));
    if (primary) out[kind].push(primary);
    for (const name of retired) {
      if (!name.startsWith(`${kind}-`) || name.endsWith('.tmp')) continue;
      const bytes = readFileSync(join(retiredDir(cryptoDir), name));
      if (!out[kind].some((k) => k.equals(bytes))) out[kind].push(bytes);
    }
  }
  return out;
}

/**
 * Writes every version, retired ones first, the primary last: a crash in between leaves the old
 * primary in place and the new versions already durable, never a state with a key missing.
 */
export function writeFileKeys(cryptoDir: string, keys: StoredKeys): void {
  mkdirSync(retiredDir(cryptoDir), { recursive: true, mode: 0o700 });
  for (const kind of KEY_KINDS) {
    for (const older of keys[kind].slice(1)) {
      writeFileAtomic(join(retiredDir(cryptoDir), `${kind}-${keyId(older)}`), older);
    }
  }
  for (const kind of KEY_KINDS) {
    const primary = keys[kind][0];
    if (primary) writeFileAtomic(keyFile(cryptoDir, kind), primary);
  }
}

/** Removes the key files (after they were copied elsewhere and verified). */
export function removeFileKeys(cryptoDir: string): void {
  for (const kind of KEY_KINDS) removeFileDurably(keyFile(cryptoDir, kind));
  let retired: string[] = [];
  try {
    retired = readdirSync(retiredDir(cryptoDir));
  } catch {
    return;
  }
  for (const name of retired) removeFileDurably(join(retiredDir(cryptoDir), name));
}
