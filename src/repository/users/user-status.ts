import type { RepositoryContext } from '../context.js';
import { readString } from '../properties.js';
import { findUser } from './paths.js';
import { sessionsValidAfter } from './sessions.js';

export type Status = 'active' | 'missing' | 'disabled';

/** What token validation needs to know of a user, without reading the store each time. */
export interface UserState {
  readonly status: Status;
  /** Tokens issued before this instant (ms) are refused: see `SESSIONS_VALID_AFTER`. */
  readonly validAfter: number;
}

/**
 * Why a session of `userId` that began at `issuedAt` (ms) is refused, or `undefined` when it
 * may go on.
 */
export function sessionRefusal(
  userId: string,
  state: UserState,
  issuedAt: number | undefined,
): string | undefined {
  if (state.status !== 'active') {
    return `user ${userId} ${state.status === 'missing' ? 'does not exist' : 'is disabled'} on this instance`;
  }
  if (issuedAt !== undefined && issuedAt < state.validAfter) {
    return `the sessions of user ${userId} were ended (password changed, disabled, re-created or logged out) after this token was issued`;
  }
  return undefined;
}

/**
 * Whether a user exists and is enabled, and since when its sessions count, cached for `ttlMs`
 * so that token validation usually reads nothing from the store. Any user, group or ACL change
 * made through this instance clears it at once; a change made elsewhere applies within `ttlMs`.
 */
export class UserStatusCache {
  readonly #ctx: RepositoryContext;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { state: UserState; at: number; generation: number }>();
  /** Lookups answered from memory and those that read the store (metrics). */
  readonly stats = { hits: 0, misses: 0 };

  constructor(ctx: RepositoryContext, ttlMs: number) {
    this.#ctx = ctx;
    this.#ttlMs = ttlMs;
  }

  /** The cached state while fresh, without waiting; `undefined` when a read is due. */
  peek(userId: string, now = Date.now()): UserState | undefined {
    const hit = this.#entries.get(userId);
    if (hit && hit.generation === this.#ctx.access.generation && now - hit.at < this.#ttlMs) {
      this.stats.hits++;
      return hit.state;
    }
    return undefined;
  }

  async status(userId: string, now = Date.now()): Promise<UserState> {
    const generation = this.#ctx.access.generation;
    const cached = this.peek(userId, now);
    if (cached) return cached;
    this.stats.misses++;
    const user = await findUser(this.#ctx.store, userId);
    const state: UserState = !user
      ? { status: 'missing', validAfter: 0 }
      : {
          status: readString(user.properties, 'rep:disabled') !== undefined ? 'disabled' : 'active',
          validAfter: sessionsValidAfter(user),
        };
    if (this.#entries.size > 100_000) this.#entries.clear(); // bounded memory
    this.#entries.set(userId, { state, at: now, generation });
    return state;
  }
}
