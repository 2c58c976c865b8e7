import type { FastifyBaseLogger } from 'fastify';

/** Longest attacker-supplied text a log line repeats (a user name, a reason). */
export const MAX_LOGGED_TEXT = 128;

/** `text` cut to {@link MAX_LOGGED_TEXT} characters: a log line never echoes a megabyte. */
export function clipForLog(text: string, max = MAX_LOGGED_TEXT): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Most keys remembered; beyond, the oldest half is forgotten (memory stays bounded). */
const MAX_KEYS = 10_000;

/**
 * Warnings an unauthenticated client can cause at will (a failed or throttled credential check,
 * a refused login-token or CSRF token) are written at most once per key (what happened, from
 * which address) and window; the ones held back are counted, and the next line written for the
 * key says how many (`repeated`). So a flood of refused requests writes a few lines a minute,
 * not one per request. The audit log records each event all the same (coalesced as it does).
 *
 * @example
 * ```ts
 * const warn = new LimitedWarnings();
 * warn.write(request.log, `csrf ${request.ip}`, { user }, 'CSRF token refused');
 * ```
 */
export class LimitedWarnings {
  readonly #keys = new Map<string, { at: number; held: number }>();
  readonly #windowMs: number;
  readonly #clock: () => number;

  constructor(windowMs = 60_000, clock: () => number = Date.now) {
    this.#windowMs = windowMs;
    this.#clock = clock;
  }

  write(log: FastifyBaseLogger, key: string, fields: Record<string, unknown>, msg: string): void {
    const now = this.#clock();
    const seen = this.#keys.get(key);
    if (seen && now - seen.at < this.#windowMs) {
      seen.held++;
      return;
    }
    if (!seen && this.#keys.size >= MAX_KEYS) {
      let drop = MAX_KEYS / 2;
      for (const k of this.#keys.keys()) {
        if (drop-- <= 0) break;
        this.#keys.delete(k);
      }
    }
    this.#keys.delete(key);
    this.#keys.set(key, { at: now, held: 0 });
    log.warn(seen && seen.held > 0 ? { ...fields, repeated: seen.held } : fields, msg);
  }
}
