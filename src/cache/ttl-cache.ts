import { TTLCache } from '@isaacs/ttlcache';

export interface TtlCacheOptions {
  /** How long an entry is kept at most (ms); 0 keeps nothing (caching off). */
  readonly ttlMs: number;
  /** Most entries kept; beyond, the soonest to expire go first (memory stays bounded). */
  readonly max: number;
  /**
   * What the entries were read under (the access cache's generation, a keyring): when it
   * changes, every entry is dropped, and a value read under an older one is never kept.
   */
  readonly scope?: () => unknown;
}

/**
 * Where a read began: hand it to {@link TtlCache.set} so that a value read before a drop (a
 * change made meanwhile, here or announced by another process) is not kept.
 */
export interface ReadTicket {
  readonly scope: unknown;
  readonly version: number;
}

/**
 * latchkey's one in-memory cache of what it read or verified: `@isaacs/ttlcache` (entries
 * expire by time, the count is bounded), with what every cache here needs on top: a scope
 * whose change drops everything, and reads that began before a drop are never kept, so a cache
 * never outlives a change (a logout, a disabled user) that happened while a read was under way.
 *
 * @example
 * ```ts
 * const users = new TtlCache<string, UserState>({ ttlMs: 5000, max: 100_000, scope: () => ctx.access.generation });
 * const state = await users.fetch(id, () => readState(id));
 * ```
 */
export class TtlCache<K, V> {
  readonly #entries: TTLCache<K, V> | undefined;
  readonly #scope: () => unknown;
  #current: unknown;
  /** Grows on every drop: a read that began before it is not kept. */
  #version = 0;
  /** Lookups answered from memory and those that had to read (metrics). */
  readonly stats = { hits: 0, misses: 0 };

  constructor(options: TtlCacheOptions) {
    this.#scope = options.scope ?? (() => undefined);
    this.#current = this.#scope();
    this.#entries =
      options.ttlMs > 0
        ? new TTLCache<K, V>({
            ttl: Math.ceil(options.ttlMs),
            max: options.max,
            // An entry past its time is never answered, even before its timer has fired.
            checkAgeOnGet: true,
            checkAgeOnHas: true,
          })
        : undefined;
  }

  /** The entry while fresh (a hit), or `undefined`; never waits. */
  get(key: K): V | undefined {
    this.#sync();
    const value = this.#entries?.get(key);
    if (value !== undefined) this.stats.hits++;
    return value;
  }

  /** How long the entry has left (ms), 0 when there is none. */
  remainingMs(key: K): number {
    this.#sync();
    return this.#entries?.getRemainingTTL(key) ?? 0;
  }

  /** Call before reading what is to be cached; pass the result to {@link set}. */
  ticket(): ReadTicket {
    this.#sync();
    return { scope: this.#current, version: this.#version };
  }

  /**
   * Keeps `value` for the cache's time to live (or `ttlMs`, when shorter), unless something was
   * dropped since `ticket` was taken.
   */
  set(key: K, value: V, ticket: ReadTicket = this.ticket(), ttlMs?: number): void {
    this.#sync();
    if (!this.#entries || ticket.scope !== this.#current || ticket.version !== this.#version)
      return;
    if (ttlMs !== undefined) {
      if (ttlMs < 1) return;
      const ttl = Math.min(Math.ceil(ttlMs), this.#entries.ttl ?? Number.POSITIVE_INFINITY);
      this.#entries.set(key, value, { ttl });
    } else {
      this.#entries.set(key, value);
    }
  }

  /** The cached value, or `load()`'s, kept unless a drop happened while it ran. */
  async fetch(key: K, load: () => Promise<V>): Promise<V> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    this.stats.misses++;
    const ticket = this.ticket();
    const value = await load();
    this.set(key, value, ticket);
    return value;
  }

  /** Forgets one entry (and keeps no read of any key that began before). */
  delete(key: K): void {
    this.#version++;
    this.#entries?.delete(key);
  }

  /** Forgets everything (and keeps no read that began before). */
  clear(): void {
    this.#version++;
    this.#entries?.clear();
  }

  get size(): number {
    return this.#entries?.size ?? 0;
  }

  #sync(): void {
    const scope = this.#scope();
    if (scope === this.#current) return;
    this.#current = scope;
    this.clear();
  }
}
