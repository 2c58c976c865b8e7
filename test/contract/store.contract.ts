import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReceivedChange, Store } from '../../src/store/types.js';

export interface StoreHarness {
  /** Opens a store on the suite's shared backing storage with the given clock. */
  open(clock: () => number, options?: { create?: boolean }): Promise<Store>;
  /** Forgets everything (a new empty backing storage for the next test). */
  reset(): Promise<void>;
}

/**
 * The storage contract (src/store/types.ts), checked identically on every backend.
 */
export function storeContract(name: string, harness: () => StoreHarness | undefined) {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    let now = 1_000_000;
    const clock = () => now;
    const others: Store[] = [];

    const h = () => {
      const value = harness();
      if (!value) throw new Error('harness missing');
      return value;
    };
    const openOther = async () => {
      const s = await h().open(clock);
      others.push(s);
      return s;
    };

    beforeEach(async () => {
      now = 1_000_000;
      await h().reset();
      store = await h().open(clock);
    });
    afterEach(async () => {
      await store.close();
      for (const s of others.splice(0)) await s.close();
    });

    const node = (path: string, properties: Record<string, unknown> = {}) => ({
      path,
      primaryType: 'nt:unstructured',
      properties: properties as Record<string, never>,
    });

    describe('opening', () => {
      it('with create: false, a store that does not exist is refused (no_store) and not created', async () => {
        await h().reset();
        await expect(h().open(clock, { create: false })).rejects.toMatchObject({
          code: 'no_store',
        });
        // Still none: a second refusal, then the first creating open finds it empty.
        await expect(h().open(clock, { create: false })).rejects.toMatchObject({
          code: 'no_store',
        });
        const created = await openOther();
        expect(await created.getNode('/')).toBeUndefined();
        await created.putNode(node('/x'));
        const existing = await h().open(clock, { create: false });
        others.push(existing);
        expect(await existing.getNode('/x')).toEqual(node('/x'));
      });
    });

    describe('nodes', () => {
      it('puts and gets a node with its JSON properties intact', async () => {
        const props = {
          title: 'Zoë ✓ "q" \\ \n',
          n: 42,
          list: [1, 'two', null],
          deep: { a: [true] },
        };
        await store.putNode(node('/content', props));
        expect(await store.getNode('/content')).toEqual(node('/content', props));
        expect(await store.getNode('/missing')).toBeUndefined();
      });

      it('keeps creation order among siblings, also when a node is replaced', async () => {
        for (const n of ['zeta', 'alpha', 'mid']) await store.putNode(node(`/c/${n}`));
        await store.putNode(node('/c/zeta', { changed: true }));
        const kids = await store.listChildren('/c');
        expect(kids.map((k) => k.path)).toEqual(['/c/zeta', '/c/alpha', '/c/mid']);
        expect(kids[0]?.properties).toEqual({ changed: true });
        expect((await store.listChildren('/c', { limit: 2 })).length).toBe(2);
      });

      it('lists descendants by depth, parents first, bounded by depth and count', async () => {
        for (const p of ['/', '/a', '/a/b', '/a/b/c', '/a/b/c/d', '/a/x', '/ab', '/a0']) {
          await store.putNode(node(p));
        }
        const all = await store.listDescendants('/a', { maxDepth: 100, limit: 100 });
        expect(all.map((n) => n.path)).toEqual(['/a/b', '/a/x', '/a/b/c', '/a/b/c/d']);
        const two = await store.listDescendants('/a', { maxDepth: 2, limit: 100 });
        expect(two.map((n) => n.path)).toEqual(['/a/b', '/a/x', '/a/b/c']);
        expect((await store.listDescendants('/a', { maxDepth: 100, limit: 1 })).length).toBe(1);
        const fromRoot = await store.listDescendants('/', { maxDepth: 1, limit: 100 });
        expect(fromRoot.map((n) => n.path)).toEqual(['/a', '/ab', '/a0']);
      });

      it('deletes a subtree and nothing that merely shares its prefix', async () => {
        const paths = ['/a', '/a/b', '/a/b/c', '/a/bc', '/a/b0', '/a/b.json', '/a/b%', '/a/b_'];
        for (const p of paths) await store.putNode(node(p));
        expect(await store.deleteTree('/a/b')).toBe(2);
        const left = await store.listDescendants('/a', { maxDepth: 5, limit: 100 });
        expect(left.map((n) => n.path).sort()).toEqual(
          ['/a/b%', '/a/b.json', '/a/b0', '/a/b_', '/a/bc'].sort(),
        );
        expect(await store.deleteTree('/nothing')).toBe(0);
      });

      it('handles any valid path segment (property-based)', async () => {
        const segment = fc
          .string({ minLength: 1, maxLength: 12, unit: 'grapheme' })
          .filter((s) => !s.includes('/') && s !== '.' && s !== '..');
        await fc.assert(
          fc.asyncProperty(
            fc.uniqueArray(segment, { minLength: 1, maxLength: 6 }),
            async (names) => {
              await store.deleteTree('/p');
              await store.putNode(node('/p'));
              for (const n of names) await store.putNode(node(`/p/${n}`, { n }));
              const kids = await store.listChildren('/p');
              expect(kids.map((k) => k.properties['n'])).toEqual(names);
              const desc = await store.listDescendants('/p', { maxDepth: 1, limit: 100 });
              expect(desc.length).toBe(names.length);
            },
          ),
          { numRuns: 25 },
        );
      });
    });

    describe('records', () => {
      it('puts, gets, replaces and deletes', async () => {
        await store.putRecord('ns', 'k', { a: 1 });
        expect(await store.getRecord('ns', 'k')).toEqual({
          ns: 'ns',
          key: 'k',
          value: { a: 1 },
          expiresAt: undefined,
        });
        await store.putRecord('ns', 'k', 'two', { expiresAt: now + 10 });
        expect((await store.getRecord('ns', 'k'))?.value).toBe('two');
        expect(await store.getRecord('other', 'k')).toBeUndefined();
        expect(await store.deleteRecord('ns', 'k')).toBe(true);
        expect(await store.deleteRecord('ns', 'k')).toBe(false);
        expect(await store.getRecord('ns', 'k')).toBeUndefined();
      });

      it('expires by time, before and without any purge', async () => {
        await store.putRecord('ns', 'k', 1, { expiresAt: now + 1000 });
        now += 999;
        expect(await store.getRecord('ns', 'k')).toBeDefined();
        now += 1;
        expect(await store.getRecord('ns', 'k')).toBeUndefined();
        expect(await store.listRecords('ns')).toEqual([]);
        expect(await store.consumeRecord('ns', 'k')).toBeUndefined();
        expect(await store.deleteRecord('ns', 'k')).toBe(false);
        expect(await store.purgeExpired()).toBe(1);
        expect(await store.purgeExpired()).toBe(0);
      });

      it('never evicts: many records all stay readable', async () => {
        await store.transaction(async (tx) => {
          for (let i = 0; i < 2000; i++)
            await tx.putRecord('bulk', `k${i}`, i, { expiresAt: now + 1e6 });
        });
        expect((await store.listRecords('bulk')).length).toBe(2000);
        expect((await store.getRecord('bulk', 'k0'))?.value).toBe(0);
      });

      it('lists by prefix in key order, with LIKE metacharacters taken literally', async () => {
        for (const k of ['a%1', 'a_2', 'ab', 'a%0', 'b', 'a', 'a\uffff'])
          await store.putRecord('ns', k, k);
        const keys = async (prefix: string) =>
          (await store.listRecords('ns', { prefix })).map((r) => r.key);
        expect(await keys('a%')).toEqual(['a%0', 'a%1']);
        expect(await keys('a_')).toEqual(['a_2']);
        expect(await keys('')).toEqual(['a', 'a%0', 'a%1', 'a_2', 'ab', 'a\uffff', 'b']);
        expect((await store.listRecords('ns', { prefix: 'a', limit: 2 })).length).toBe(2);
        // Paging: keys after the last one seen, with or without a prefix.
        const pageAfter = async (key: string, prefix?: string) =>
          (await store.listRecords('ns', { after: key, prefix, limit: 3 })).map((r) => r.key);
        expect(await pageAfter('a%1')).toEqual(['a_2', 'ab', 'a\uffff']);
        expect(await pageAfter('a\uffff')).toEqual(['b']);
        expect(await pageAfter('a_2', 'a')).toEqual(['ab', 'a\uffff']);
        expect(await pageAfter('b')).toEqual([]);
        expect(await store.deleteRecords('ns', { prefix: 'a%' })).toBe(2);
        expect(await keys('a%')).toEqual([]);
      });

      it('insertRecord: exactly one winner among concurrent callers, across connections', async () => {
        const second = await openOther();
        const attempts = Array.from({ length: 24 }, (_, i) =>
          (i % 2 ? second : store).insertRecord('once', 'jti-1', i, { expiresAt: now + 5000 }),
        );
        const results = await Promise.all(attempts);
        expect(results.filter(Boolean).length).toBe(1);
        expect(await store.insertRecord('once', 'jti-1', 'again')).toBe(false);
      });

      it('insertRecord: an expired record counts as absent', async () => {
        expect(await store.insertRecord('once', 'k', 1, { expiresAt: now + 10 })).toBe(true);
        expect(await store.insertRecord('once', 'k', 2, { expiresAt: now + 10 })).toBe(false);
        now += 10;
        expect(await store.insertRecord('once', 'k', 3, { expiresAt: now + 10 })).toBe(true);
        expect((await store.getRecord('once', 'k'))?.value).toBe(3);
      });

      it('consumeRecord: exactly one caller receives the record', async () => {
        const second = await openOther();
        for (let round = 0; round < 5; round++) {
          await store.putRecord('codes', `c${round}`, { round });
          const got = await Promise.all(
            Array.from({ length: 12 }, (_, i) =>
              (i % 2 ? second : store).consumeRecord('codes', `c${round}`),
            ),
          );
          expect(got.filter((g) => g !== undefined)).toEqual([
            { ns: 'codes', key: `c${round}`, value: { round }, expiresAt: undefined },
          ]);
        }
      });
    });

    describe('transactions', () => {
      it('commits every write together', async () => {
        const result = await store.transaction(async (tx) => {
          await tx.putNode(node('/t'));
          await tx.putRecord('ns', 'k', 1);
          return 'done';
        });
        expect(result).toBe('done');
        expect(await store.getNode('/t')).toBeDefined();
        expect(await store.getRecord('ns', 'k')).toBeDefined();
      });

      it('rolls back every write when the function throws', async () => {
        await store.putRecord('ns', 'kept', 0);
        await expect(
          store.transaction(async (tx) => {
            await tx.putNode(node('/t'));
            await tx.putRecord('ns', 'k', 1);
            await tx.deleteRecord('ns', 'kept');
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await store.getNode('/t')).toBeUndefined();
        expect(await store.getRecord('ns', 'k')).toBeUndefined();
        expect(await store.getRecord('ns', 'kept')).toBeDefined();
      });

      it('isolates concurrent read-modify-write transactions (no lost update)', async () => {
        const second = await openOther();
        await store.putRecord('ctr', 'n', 0);
        const bump = (s: Store) =>
          s.transaction(async (tx) => {
            const current = (await tx.getRecord('ctr', 'n'))?.value as number;
            await new Promise((r) => setTimeout(r, 1));
            await tx.putRecord('ctr', 'n', current + 1);
          });
        await Promise.all(Array.from({ length: 16 }, (_, i) => bump(i % 2 ? second : store)));
        expect((await store.getRecord('ctr', 'n'))?.value).toBe(16);
      });

      it('other operations do not see or join an open transaction', async () => {
        let release!: () => void;
        const gate = new Promise<void>((r) => {
          release = r;
        });
        const tx = store.transaction(async (t) => {
          await t.putRecord('ns', 'k', 'inside');
          await gate;
          throw new Error('abort');
        });
        const outside = store.putRecord('ns', 'other', 'outside');
        setTimeout(release, 20);
        await expect(tx).rejects.toThrow('abort');
        await outside;
        expect(await store.getRecord('ns', 'k')).toBeUndefined();
        expect((await store.getRecord('ns', 'other'))?.value).toBe('outside');
      });

      it('refuses a transaction handle used after the transaction ended', async () => {
        let leaked: Parameters<Parameters<Store['transaction']>[0]>[0] | undefined;
        await store.transaction(async (tx) => {
          leaked = tx;
        });
        await expect(leaked!.getRecord('ns', 'k')).rejects.toThrow(/after its transaction ended/);
      });
    });

    it('keeps data across close and reopen', async () => {
      await store.putNode(node('/durable', { v: 1 }));
      await store.putRecord('ns', 'durable', 'yes');
      await store.close();
      store = await h().open(clock);
      expect((await store.getNode('/durable'))?.properties).toEqual({ v: 1 });
      expect((await store.getRecord('ns', 'durable'))?.value).toBe('yes');
    });

    describe('change events (guarantee 5)', () => {
      const waitFor = async (events: ReceivedChange[], n: number, ms: number) => {
        const until = Date.now() + ms;
        while (events.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      };

      it('delivers a published event to a subscriber of another connection within 1 s, and at once to the publisher', async () => {
        const other = await openOther();
        const remote: ReceivedChange[] = [];
        const local: ReceivedChange[] = [];
        // Only this store's events: PostgreSQL also delivers other schemas' (sameStore false).
        other.subscribe((e) => e.sameStore && remote.push(e));
        store.subscribe((e) => e.sameStore && local.push(e));
        await new Promise((r) => setTimeout(r, 300)); // the subscription is in place
        const sent = Date.now();
        await store.publish({ kind: 'user', key: 'alice' });
        expect(local).toEqual([
          expect.objectContaining({ kind: 'user', key: 'alice', local: true, sameStore: true }),
        ]);
        await waitFor(remote, 1, 2000);
        expect(remote).toEqual([
          expect.objectContaining({ kind: 'user', key: 'alice', local: false, sameStore: true }),
        ]);
        expect(Date.now() - sent).toBeLessThan(1000);
        expect(remote[0]!.publishedAt).toBeGreaterThanOrEqual(sent);
      });

      it('stops delivering once unsubscribed, and never delivers an event twice to one subscriber', async () => {
        const other = await openOther();
        const seen: ReceivedChange[] = [];
        const stop = other.subscribe((e) => e.sameStore && seen.push(e));
        await new Promise((r) => setTimeout(r, 300));
        await store.publish({ kind: 'acl', key: '/content' });
        await store.publish({ kind: 'acl', key: '/etc' });
        await waitFor(seen, 2, 2000);
        expect(seen.map((e) => e.key)).toEqual(['/content', '/etc']);
        stop();
        await store.publish({ kind: 'acl', key: '/late' });
        await new Promise((r) => setTimeout(r, 600));
        expect(seen.map((e) => e.key)).toEqual(['/content', '/etc']);
      });
    });

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
