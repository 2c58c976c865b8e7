import { createHmac, randomBytes } from 'node:crypto';
import { type ReadTicket, TtlCache } from '../cache/ttl-cache.js';
import type { RepositoryContext } from '../repository/context.js';

/**
 * The cache key of a user id and password: HMAC-SHA256 under `key` of both, each prefixed by its
 * length in bytes so that no two pairs share an input. Without the key (random per process,
 * never written anywhere) the key tells nothing about the password, not even as an offline
 * guess target.
 */
export function credentialKey(key: Buffer, userId: string, password: string): string {
  const user = Buffer.from(userId, 'utf8');
  const pass = Buffer.from(password, 'utf8');
  const lengths = Buffer.alloc(8);
  lengths.writeUInt32BE(user.length, 0);
  lengths.writeUInt32BE(pass.length, 4);
  return createHmac('sha256', key).update(lengths).update(user).update(pass).digest('base64url');
}

/** Most credentials remembered at once. */
const MAX_ENTRIES = 10_000;

/**
 * HTTP Basic credentials verified a moment ago, so that a client sending `-u user:password` on
 * every request pays the password hash (scrypt, tens of milliseconds) once per `ttlMs`, not per
 * request. Only a successful check is remembered, by {@link credentialKey} (never the
 * password); a wrong password always takes the full, throttled check. Any change to users,
 * groups or ACLs made here (a password change, a disable, a delete) drops every entry at once
 * (the access cache's generation), and one made by another process sharing the store when its
 * change event arrives; `ttlMs` bounds staleness when an event is lost.
 *
 * @example
 * ```ts
 * const verified = new VerifiedPasswords(ctx, 5000);
 * const key = verified.keyOf(user, password);
 * if (verified.lookup(key) !== 'miss') return subjectFor(ctx, user);
 * ```
 */
export class VerifiedPasswords {
  readonly #key = randomBytes(32);
  readonly #entries: TtlCache<string, true>;
  readonly #ttlMs: number;
  /** Checks under way by key: the same credentials sent at once are hashed once. */
  readonly #checks = new Map<string, Promise<unknown>>();

  constructor(ctx: RepositoryContext, ttlMs: number) {
    this.#ttlMs = ttlMs;
    this.#entries = new TtlCache({
      ttlMs,
      max: MAX_ENTRIES,
      scope: () => ctx.access.generation,
    });
  }

  /** Hits (no hash computed) and misses (full check), for the metrics. */
  get stats(): { readonly hits: number; readonly misses: number } {
    return this.#entries.stats;
  }

  keyOf(userId: string, password: string): string {
    return credentialKey(this.#key, userId, password);
  }

  /**
   * Whether these credentials were verified within the time to live, with no change since:
   * `renew` in the second half of it, so that a check started now (in the background)
   * replaces the entry before it expires and clients never wait for the hash.
   */
  lookup(key: string): 'miss' | 'hit' | 'renew' {
    if (this.#entries.get(key) !== true) {
      this.#entries.stats.misses++;
      return 'miss';
    }
    return this.#entries.remainingMs(key) < this.#ttlMs / 2 ? 'renew' : 'hit';
  }

  /**
   * Runs `check` for these credentials, or joins the one under way for the very same ones (the
   * same user id and password: nothing is learnt from sharing its outcome), so that the clients
   * of a script arriving together when an entry expires cost one hash, not one each.
   */
  once<T>(key: string, check: () => Promise<T>): Promise<T> {
    const running = this.#checks.get(key) as Promise<T> | undefined;
    if (running) return running;
    const started = check().finally(() => this.#checks.delete(key));
    this.#checks.set(key, started);
    return started;
  }

  /** Drops these credentials (a check again found them wrong). */
  forget(key: string): void {
    this.#entries.delete(key);
  }

  /** Call before the check; hand the result to {@link remember}. */
  ticket(): ReadTicket {
    return this.#entries.ticket();
  }

  /** After a successful check that began at `ticket` (unless something changed meanwhile). */
  remember(key: string, ticket: ReadTicket): void {
    this.#entries.set(key, true, ticket);
  }
}
