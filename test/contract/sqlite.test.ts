import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { storeContract } from './store.contract.js';

const root = mkdtempSync(join(tmpdir(), 'lk-sqlite-'));
let n = 0;
let file = join(root, 'store-0.sqlite');
afterAll(() => rmSync(root, { recursive: true, force: true }));

storeContract('sqlite', () => ({
  open: async (clock, options) => new SqliteStore(file, { clock, ...options }),
  reset: async () => {
    file = join(root, `store-${++n}.sqlite`);
  },
}));
