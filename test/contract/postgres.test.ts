import { afterAll, describe, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { findPostgres, freshSchemaUrl } from '../helpers/postgres.js';
import { storeContract } from './store.contract.js';

// Resolved before the suite is collected, so the suite can be skipped with a printed reason.
const base = await findPostgres();
const drops: Array<() => Promise<void>> = [];
let current: string | undefined;

afterAll(async () => {
  for (const drop of drops) await drop();
});

if (base) {
  storeContract('postgres', () => ({
    open: (clock) => PostgresStore.open(current!, { clock }),
    reset: async () => {
      const fresh = freshSchemaUrl(base);
      drops.push(fresh.drop);
      current = fresh.url;
    },
  }));
} else {
  describe('store contract: postgres', () => {
    it.skip('needs a PostgreSQL server (set LATCHKEY_TEST_PG_URL); none answered', () => {});
  });
}
