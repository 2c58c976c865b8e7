/**
 * Login throttling: failed attempts per user name and per client address within a sliding
 * window. Past the limit, attempts are refused (429) until the oldest counted failure leaves the
 * window; a successful login clears the user's count. Counted in this process (each instance
 * throttles what it sees).
 */
export class LoginThrottle {
  readonly #users = new Map<string, number[]>();
  readonly #addresses = new Map<string, number[]>();
  readonly #options: {
    maxFailuresPerUser: number;
    maxFailuresPerAddress: number;
    windowMs: number;
  };

  constructor(options: {
    maxFailuresPerUser: number;
    maxFailuresPerAddress: number;
    windowMs: number;
  }) {
    this.#options = options;
  }

  #recent(map: Map<string, number[]>, key: string, now: number): number[] {
    const list = (map.get(key) ?? []).filter((t) => t > now - this.#options.windowMs);
    if (list.length === 0) map.delete(key);
    else map.set(key, list);
    return list;
  }

  /** Seconds to wait before trying again, or 0 when the attempt may proceed. */
  retryAfter(user: string, address: string, now = Date.now()): number {
    const checks: [number[], number][] = [
      [this.#recent(this.#users, user.toLowerCase(), now), this.#options.maxFailuresPerUser],
      [this.#recent(this.#addresses, address, now), this.#options.maxFailuresPerAddress],
    ];
    let wait = 0;
    for (const [list, max] of checks) {
      if (list.length >= max) {
        const oldest = list[list.length - max]!;
        wait = Math.max(wait, Math.ceil((oldest + this.#options.windowMs - now) / 1000));
      }
    }
    return wait;
  }

  failed(user: string, address: string, now = Date.now()): void {
    if (this.#users.size > 100_000 || this.#addresses.size > 100_000) {
      // Bounded memory under a flood of distinct names: forget what has aged out.
      for (const [k] of this.#users) this.#recent(this.#users, k, now);
      for (const [k] of this.#addresses) this.#recent(this.#addresses, k, now);
    }
    this.#users.set(user.toLowerCase(), [
      ...this.#recent(this.#users, user.toLowerCase(), now),
      now,
    ]);
    this.#addresses.set(address, [...this.#recent(this.#addresses, address, now), now]);
  }

  succeeded(user: string): void {
    this.#users.delete(user.toLowerCase());
  }
}
