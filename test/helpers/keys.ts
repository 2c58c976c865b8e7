import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cryptoDirOf, type KeyLocation } from '../../src/crypto/load-keyring.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';

/** A data folder with its own SQLite store, for key tests. */
export function keyLocation(): KeyLocation & {
  data: string;
  reopen: () => KeyLocation;
  close: () => Promise<void>;
} {
  const data = mkdtempSync(join(tmpdir(), 'lk-keys-'));
  const file = join(data, 'author.sqlite');
  let store = new SqliteStore(file);
  const loc = {
    data,
    cryptoDir: cryptoDirOf(data),
    get store() {
      return store;
    },
    reopen: () => {
      store = new SqliteStore(file);
      return { cryptoDir: cryptoDirOf(data), store };
    },
    close: async () => {
      await store.close();
      rmSync(data, { recursive: true, force: true });
    },
  };
  return loc;
}
