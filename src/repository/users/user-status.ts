import { TtlCache } from '../../cache/ttl-cache.js';
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
 * made through this instance clears it at once (the access cache's generation); a change made
 * by another process sharing the store clears it when its change event arrives (within a
 * second), and `ttlMs` bounds staleness when an event is lost.
 */
export class UserStatusCache {
  readonly #ctx: RepositoryContext;
  readonly #entries: TtlCache<string, UserState>;

  constructor(ctx: RepositoryContext, ttlMs: number) {
    this.#ctx = ctx;
    this.#entries = new TtlCache({ ttlMs, max: 100_000, scope: () => ctx.access.generation });
  }

  /** Lookups answered from memory and those that read the store (metrics). */
  get stats(): { readonly hits: number; readonly misses: number } {
    return this.#entries.stats;
  }

  /** The cached state while fresh, without waiting; `undefined` when a read is due. */
  peek(userId: string, _now = Date.now()): UserState | undefined {
    return this.#entries.get(userId);
  }

  status(userId: string, _now = Date.now()): Promise<UserState> {
    return this.#entries.fetch(userId, async () => {
      const user = await findUser(this.#ctx.store, userId);
      return !user
        ? { status: 'missing', validAfter: 0 }
        : {
            status:
              readString(user.properties, 'rep:disabled') !== undefined ? 'disabled' : 'active',
            validAfter: sessionsValidAfter(user),
          };
    });
  }
}
