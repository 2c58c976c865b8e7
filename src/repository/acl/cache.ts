import { TtlCache } from '../../cache/ttl-cache.js';
import { announce, CHANGE } from '../../farm/changes.js';
import type { Store } from '../../store/types.js';
import { fromStored } from '../properties.js';
import { ACL_NS, type Ace } from './types.js';

/** Everything access decisions need, read in one go. */
export interface AccessSnapshot {
  /** ACEs by node path, in evaluation order. */
  readonly aces: ReadonlyMap<string, readonly Ace[]>;
  /** Groups each principal belongs to, transitively. */
  readonly groupsOf: (principal: string) => ReadonlySet<string>;
}

const NO_GROUPS: ReadonlySet<string> = new Set();
const GROUPS_ROOT = '/home/groups';
const MAX_GROUPS = 100_000;

/**
 * Access-control lists and group memberships, cached so that a request decides access without a
 * store read. Changes made through this process call {@link AccessCache.invalidate} and apply at
 * once; it publishes a change event, on which every other process sharing the store calls
 * {@link AccessCache.drop} (within a second); `ttlMs` bounds staleness when an event is lost.
 */
export class AccessCache {
  readonly #store: Store;
  readonly #snapshot: TtlCache<'snapshot', AccessSnapshot>;
  #loading: Promise<AccessSnapshot> | undefined;
  #generation = 0;

  constructor(store: Store, ttlMs: number) {
    this.#store = store;
    this.#snapshot = new TtlCache({ ttlMs, max: 1 });
  }

  /** Lookups answered from the snapshot and those that needed a read (metrics). */
  get stats(): { readonly hits: number; readonly misses: number } {
    return this.#snapshot.stats;
  }

  /** The snapshot while fresh, without waiting; `undefined` when a read is due. */
  peek(): AccessSnapshot | undefined {
    return this.#snapshot.get('snapshot');
  }

  /** The current snapshot; re-read when older than the TTL or invalidated. */
  get(): Promise<AccessSnapshot> {
    const hit = this.#snapshot.get('snapshot');
    if (hit) return Promise.resolve(hit);
    this.#snapshot.stats.misses++;
    // Concurrent callers share one load (one begun before a drop is not shared after it).
    if (!this.#loading) {
      const loading: Promise<AccessSnapshot> = this.#load().finally(() => {
        if (this.#loading === loading) this.#loading = undefined;
      });
      this.#loading = loading;
    }
    return this.#loading;
  }

  /**
   * After a committed change to users, groups, memberships or ACLs (`key`: which one): drops the
   * snapshot here and tells the other processes sharing the store. Resolves once the event is
   * on its way (await it to make sure the change is known everywhere before answering).
   */
  invalidate(key = ''): Promise<void> {
    this.drop();
    return announce(this.#store, CHANGE.access, key);
  }

  /** Drops the snapshot (and the caches scoped by its generation) of this process only. */
  drop(): void {
    this.#snapshot.clear();
    this.#loading = undefined;
    this.#generation++;
  }

  /** Grows on every change to users, groups or ACLs (other caches are scoped by it). */
  get generation(): number {
    return this.#generation;
  }

  async #load(): Promise<AccessSnapshot> {
    const ticket = this.#snapshot.ticket();
    const [aclRecords, groupNodes] = await Promise.all([
      this.#store.listRecords(ACL_NS),
      this.#store.listDescendants(GROUPS_ROOT, { maxDepth: 2, limit: MAX_GROUPS }),
    ]);
    const aces = new Map<string, readonly Ace[]>();
    for (const r of aclRecords) aces.set(r.key, r.value as unknown as Ace[]);

    const direct = new Map<string, string[]>(); // member -> groups
    for (const node of groupNodes) {
      if (node.primaryType !== 'rep:Group') continue;
      const id = fromStored(node.properties['rep:authorizableId'] ?? null)?.values[0];
      const members = fromStored(node.properties['rep:members'] ?? null)?.values ?? [];
      if (typeof id !== 'string') continue;
      for (const m of members) {
        if (typeof m !== 'string') continue;
        const list = direct.get(m) ?? [];
        list.push(id);
        direct.set(m, list);
      }
    }
    const closure = new Map<string, ReadonlySet<string>>();
    const groupsOf = (principal: string): ReadonlySet<string> => {
      const cached = closure.get(principal);
      if (cached) return cached;
      if (!direct.has(principal)) return NO_GROUPS;
      const seen = new Set<string>();
      const queue = [...(direct.get(principal) ?? [])];
      while (queue.length > 0) {
        const g = queue.pop()!;
        if (seen.has(g)) continue; // membership cycles are tolerated
        seen.add(g);
        queue.push(...(direct.get(g) ?? []));
      }
      closure.set(principal, seen);
      return seen;
    };
    const snapshot: AccessSnapshot = { aces, groupsOf };
    // A change made while this load ran must not be masked by its (older) result.
    this.#snapshot.set('snapshot', snapshot, ticket);
    return snapshot;
  }
}
