import type { RepositoryContext } from '../context.js';
import { readString } from '../properties.js';
import { findUser } from './paths.js';

type Status = 'active' | 'missing' | 'disabled';

/**
 * Whether a user exists and is enabled, cached for `ttlMs` so that token validation usually
 * reads nothing from the store. Any user, group or ACL change made through this instance clears
 * it at once; a change made elsewhere applies within `ttlMs`.
 */
export class UserStatusCache {
  readonly #ctx: RepositoryContext;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { status: Status; at: number; generation: number }>();

  constructor(ctx: RepositoryContext, ttlMs: number) {
    this.#ctx = ctx;
    this.#ttlMs = ttlMs;
  }

  /** The cached status while fresh, without waiting; `undefined` when a read is due. */
  peek(userId: string, now = Date.now()): Status | undefined {
    const hit = this.#entries.get(userId);
    return hit && hit.generation === this.#ctx.access.generation && now - hit.at < this.#ttlMs
      ? hit.status
      : undefined;
  }

  async status(userId: string, now = Date.now()): Promise<Status> {
    const generation = this.#ctx.access.generation;
    const cached = this.peek(userId, now);
    if (cached) return cached;
    const user = await findUser(this.#ctx.store, userId);
    const status: Status = !user
      ? 'missing'
      : readString(user.properties, 'rep:disabled') !== undefined
        ? 'disabled'
        : 'active';
    if (this.#entries.size > 100_000) this.#entries.clear(); // bounded memory
    this.#entries.set(userId, { status, at: now, generation });
    return status;
  }
}
