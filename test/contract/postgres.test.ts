import { afterAll, describe, expect, it } from 'vitest';
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

if (base) {
  describe('PostgreSQL store opening', () => {
    it('opens an existing schema without DDL, so it never waits on (or deadlocks with) open writers', async () => {
      const fresh = freshSchemaUrl(base);
      drops.push(fresh.drop);
      const a = await PostgresStore.open(fresh.url);
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const writer = a.transaction(async (tx) => {
        await tx.putNode({ path: '/busy', primaryType: 'nt:unstructured', properties: {} });
        await tx.putRecord('ns', 'busy', 1);
        await gate; // holds its row and table locks
      });
      const opened = await Promise.race([
        PostgresStore.open(fresh.url).then((b) => b),
        new Promise<'blocked'>((r) => setTimeout(() => r('blocked'), 3000)),
      ]);
      release();
      await writer;
      expect(opened).not.toBe('blocked');
      if (opened !== 'blocked') await opened.close();
      await a.close();
    });
  });
}
