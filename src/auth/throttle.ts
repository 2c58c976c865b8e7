import { audit } from '../audit/record.js';
import { LatchkeyError } from '../errors.js';

export interface ThrottleOptions {
  /** Failures of one identity from one address within the window before 429. */
  readonly maxFailuresPerUser: number;
  /** Failures from one address (any identity) within the window before 429. */
  readonly maxFailuresPerAddress: number;
  readonly windowMs: number;
}

/** What the throttle reports, for the log: never a password. */
export interface ThrottleEvent {
  readonly event: 'failed' | 'throttled';
  readonly kind: string;
  readonly user: string;
  readonly address: string;
}

/** 429 with `Retry-After`: too many failed credential checks. */
export class ThrottledError extends LatchkeyError {
  override readonly name = 'ThrottledError';
  constructor(retryAfterS: number) {
    super('too_many_requests', `too many failed attempts; retry in ${retryAfterS} s`, 429, {
      'retry-after': String(retryAfterS),
    });
  }
}

/** One credential check in flight: report how it ended, exactly once. */
export interface Attempt {
  failed(): void;
  succeeded(): void;
  /** The check could not be made (server fault, hashing busy): neither a failure nor a success. */
  abandoned(): void;
}

/** Most callers that may wait on one key before further ones are refused at once. */
const MAX_WAITERS = 256;
const MAX_KEYS = 100_000;

class Counter {
  failures: number[] = [];
  inflight = 0;
  waiters: (() => void)[] = [];
}

/**
 * The per-user-and-address counters of services that check one user's password: `latchkey start`
 * gives its author and its IMS one `admin` with one password, so a guess at either is a guess at
 * both. Throttles made with the same `SharedAccounts` count a user name's failures from an address
 * together (a lockout at the IMS is not bypassed by guessing on at the author, nor the other way
 * round) and keep their per-address counters apart (a flood of made-up names or client secrets at
 * one service does not stop that address at the other).
 */
export class SharedAccounts {
  readonly pairs = new Map<string, Counter>();
}

/**
 * Throttling of every credential check (form login, HTTP Basic, IMS administrators, client
 * secrets), counted in this process.
 *
 * Counting is atomic: an attempt reserves its place *before* its credentials are evaluated, in
 * one synchronous step, and a reservation counts against the limit like a failure until the
 * attempt ends. So N concurrent wrong passwords count as N before any is evaluated, and at most
 * the limit of them are ever evaluated; callers beyond it wait for the outcome (a success frees
 * the place, a failure keeps it) and are refused once the limit is reached.
 *
 * Two limits, so that nobody can lock an account's owner out: failures per identity *and
 * address*, and failures per address. Failures from addresses attacking an account never stop
 * its owner signing in from an address with none. There is deliberately no per-account lock.
 * Identities are normalized (NFKC, lower case) before counting, so `ADMIN` and `admin` count
 * together; IPv4-mapped IPv6 addresses count as IPv4, other IPv6 addresses by their /64.
 * Services of one process that share their users' passwords share the per-user counters (see
 * {@link SharedAccounts}).
 */
export class CredentialThrottle {
  readonly #pairs: Map<string, Counter>;
  readonly #addresses = new Map<string, Counter>();
  readonly #options: ThrottleOptions;
  readonly #clock: () => number;
  /** Where failures and refusals are reported (the server log); set once the app exists. */
  onEvent: (event: ThrottleEvent) => void = () => {};

  constructor(
    options: ThrottleOptions,
    clock: () => number = Date.now,
    accounts: SharedAccounts = new SharedAccounts(),
  ) {
    this.#options = options;
    this.#clock = clock;
    this.#pairs = accounts.pairs;
  }

  /**
   * Reserves one attempt for `user` from `address`; throws {@link ThrottledError} when a limit is
   * reached. `kind` names the check in the log (`login`, `basic`, `ims-admin`, `client`).
   */
  async begin(kind: string, user: string, address: string): Promise<Attempt> {
    const who = normalizeIdentity(user);
    const from = normalizeAddress(address);
    const pairKey = `${kind === 'client' ? 'client' : 'user'}\u0000${who}\u0000${from}`;
    for (;;) {
      const now = this.#clock();
      const pair = this.#counter(this.#pairs, pairKey);
      const addr = this.#counter(this.#addresses, from);
      const limits: [Counter, number][] = [
        [pair, this.#options.maxFailuresPerUser],
        [addr, this.#options.maxFailuresPerAddress],
      ];
      let wait = 0;
      let blocking: Counter | undefined;
      for (const [c, max] of limits) {
        const recent = this.#prune(c, now);
        if (recent >= max) {
          const oldest = c.failures[c.failures.length - max]!;
          wait = Math.max(wait, Math.ceil((oldest + this.#options.windowMs - now) / 1000));
        } else if (recent + c.inflight >= max) {
          blocking ??= c;
        }
      }
      if (wait > 0) {
        this.#refused(kind, user, from);
        throw new ThrottledError(Math.max(1, wait));
      }
      if (!blocking) {
        pair.inflight++;
        addr.inflight++;
        return this.#attempt(kind, user, from, pair, addr);
      }
      // Attempts in flight could still fill the limit: wait for one of them to end.
      if (blocking.waiters.length >= MAX_WAITERS) {
        this.#refused(kind, user, from);
        throw new ThrottledError(1);
      }
      await new Promise<void>((resolve) => blocking.waiters.push(resolve));
    }
  }

  #refused(kind: string, user: string, from: string): void {
    this.onEvent({ event: 'throttled', kind, user, address: from });
    void audit({
      type: 'throttle.refused',
      outcome: 'refused',
      actor: user,
      details: { method: methodOf(kind) },
    });
  }

  #attempt(kind: string, user: string, from: string, pair: Counter, addr: Counter): Attempt {
    let done = false;
    const end = (outcome: 'failed' | 'succeeded' | 'abandoned') => {
      if (done) return;
      done = true;
      const now = this.#clock();
      pair.inflight--;
      addr.inflight--;
      if (outcome === 'failed') {
        pair.failures.push(now);
        addr.failures.push(now);
        this.onEvent({ event: 'failed', kind, user, address: from });
        void audit({
          type: 'login',
          outcome: 'failure',
          actor: user,
          details: { method: methodOf(kind) },
        });
      } else if (outcome === 'succeeded') {
        // The owner proved the password from here: this pair starts afresh. Failures counted
        // for the address stay (another account may be under attack from it).
        pair.failures = [];
      }
      for (const c of [pair, addr]) {
        const waiters = c.waiters;
        c.waiters = [];
        for (const wake of waiters) wake();
      }
    };
    return {
      failed: () => end('failed'),
      succeeded: () => end('succeeded'),
      abandoned: () => end('abandoned'),
    };
  }

  #counter(map: Map<string, Counter>, key: string): Counter {
    let c = map.get(key);
    if (!c) {
      if (map.size >= MAX_KEYS) this.#sweep(map);
      c = new Counter();
      map.set(key, c);
    }
    return c;
  }

  /** Drops failures that left the window; returns how many remain. */
  #prune(c: Counter, now: number): number {
    const since = now - this.#options.windowMs;
    let i = 0;
    while (i < c.failures.length && c.failures[i]! <= since) i++;
    if (i > 0) c.failures = c.failures.slice(i);
    return c.failures.length;
  }

  /** Bounded memory under a flood of distinct names: forget idle counters. */
  #sweep(map: Map<string, Counter>): void {
    const now = this.#clock();
    for (const [key, c] of map) {
      if (c.inflight === 0 && c.waiters.length === 0 && this.#prune(c, now) === 0) map.delete(key);
    }
  }
}

/** The audit log's name of a check: the login form is `form` (as its successes are). */
function methodOf(kind: string): string {
  return kind === 'login' ? 'form' : kind;
}

/** `ADMIN`, `admin` and `ａｄｍｉｎ` are one identity. */
export function normalizeIdentity(user: string): string {
  return user.normalize('NFKC').trim().toLowerCase();
}

/** `::ffff:127.0.0.1` is `127.0.0.1`; an IPv6 client counts by its /64 (one host holds many). */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * Runs one credential check under the throttle: `check` resolves to the authenticated value, or
 * `undefined`/`false` for wrong credentials (counted as a failure). A check that throws (store
 * down, hashing busy) counts as neither.
 */
export async function throttledCheck<T>(
  throttle: CredentialThrottle,
  kind: string,
  user: string,
  address: string,
  check: () => Promise<T | undefined | false>,
): Promise<T | undefined> {
  const attempt = await throttle.begin(kind, user, address);
  let result: T | undefined | false;
  try {
    result = await check();
  } catch (err) {
    attempt.abandoned();
    throw err;
  }
  if (result === undefined || result === false) {
    attempt.failed();
    return undefined;
  }
  attempt.succeeded();
  return result;
}
