import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { RESYNC, type ReceivedChange } from '../../src/store/types.js';
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
    open: (clock, options) => PostgresStore.open(current!, { clock, ...options }),
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

if (base) {
  describe('PostgreSQL change events', () => {
    const until = async (check: () => boolean, ms: number) => {
      const end = Date.now() + ms;
      while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      return check();
    };

    it('delivers the events of another schema of the database, marked as such', async () => {
      const one = freshSchemaUrl(base);
      const two = freshSchemaUrl(base);
      drops.push(one.drop, two.drop);
      const a = await PostgresStore.open(one.url);
      const b = await PostgresStore.open(two.url);
      try {
        const seen: ReceivedChange[] = [];
        const key = `client:${one.schema}`; // other tests' events travel on the channel too
        b.subscribe((e) => e.key === key && seen.push(e));
        await new Promise((r) => setTimeout(r, 300));
        await a.publish({ kind: 'revocation', key });
        expect(await until(() => seen.length === 1, 2000)).toBe(true);
        expect(seen[0]).toMatchObject({ kind: 'revocation', sameStore: false, local: false });
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('reports a lost notification connection, reconnects and asks for a resync', async () => {
      const fresh = freshSchemaUrl(base);
      drops.push(fresh.drop);
      const a = await PostgresStore.open(fresh.url);
      const b = await PostgresStore.open(fresh.url);
      const admin = new pg.Client({ connectionString: base });
      await admin.connect();
      try {
        const listeners = async () =>
          (
            await admin.query<{ pid: number }>(
              'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
              // Other test files listen on the same database at the same time: this store's
              // listener is the one named after its schema.
              [`latchkey-changes ${fresh.schema}`.slice(0, 63)],
            )
          ).rows.map((r) => r.pid);
        const before = new Set(await listeners());
        const seen: ReceivedChange[] = [];
        const states: boolean[] = [];
        b.subscribe((e) => seen.push(e), { onConnection: (up) => states.push(up) });
        expect(await until(() => states.includes(true), 3000)).toBe(true);
        // The server drops the listening connection, as a restart or a network cut would.
        const ours = (await listeners()).filter((pid) => !before.has(pid));
        expect(ours).toHaveLength(1);
        await admin.query('SELECT pg_terminate_backend($1)', [ours[0]]);
        expect(await until(() => states.includes(false), 3000)).toBe(true);
        expect(await until(() => seen.some((e) => e.kind === RESYNC), 5000)).toBe(true);
        expect(states.at(-1)).toBe(true);
        await a.publish({ kind: 'user', key: 'after' });
        expect(await until(() => seen.some((e) => e.key === 'after'), 2000)).toBe(true);
      } finally {
        await admin.end();
        await a.close();
        await b.close();
      }
    });
  });
}
