import {
  ExchangeError,
  exchange,
  type ServiceCredentialsJson,
  type TokenResponse,
} from './exchange.js';

export interface TokenManagerOptions {
  /** Renew this long before the token expires (default 5 minutes). */
  readonly refreshBeforeMs?: number;
  /** Attempts for one exchange when failures are transient (default 4). */
  readonly attempts?: number;
  /** First retry delay; doubles each time, with jitter (default 250 ms). */
  readonly baseDelayMs?: number;
  readonly fetch?: typeof fetch;
  readonly clock?: () => number;
}

/** Network failures, 429 and 5xx are worth retrying; anything else (bad credentials…) is not. */
function transient(err: unknown): boolean {
  if (!(err instanceof ExchangeError)) return true;
  return err.status === 0 || err.status === 429 || err.status >= 500;
}

/**
 * Keeps an access token for service credentials: exchanges once, serves the cached token, renews
 * it before it expires, lets concurrent callers share one exchange, and retries transient failures
 * with exponential backoff.
 *
 * @example
 * ```ts
 * const tokens = new TokenManager(JSON.parse(readFileSync('credentials.json', 'utf8')));
 * const res = await fetch(url, { headers: { authorization: `Bearer ${await tokens.getToken()}` } });
 * ```
 */
export class TokenManager {
  readonly #credentials: ServiceCredentialsJson;
  readonly #options: Required<Omit<TokenManagerOptions, 'fetch'>> & {
    fetch: typeof fetch | undefined;
  };
  #token: { value: string; renewAt: number } | undefined;
  #pending: Promise<string> | undefined;
  /** How many exchanges were made (observability). */
  exchanges = 0;

  constructor(credentials: ServiceCredentialsJson, options: TokenManagerOptions = {}) {
    this.#credentials = credentials;
    this.#options = {
      refreshBeforeMs: options.refreshBeforeMs ?? 5 * 60_000,
      attempts: options.attempts ?? 4,
      baseDelayMs: options.baseDelayMs ?? 250,
      clock: options.clock ?? Date.now,
      fetch: options.fetch,
    };
  }

  async getToken(): Promise<string> {
    const now = this.#options.clock();
    if (this.#token && now < this.#token.renewAt) return this.#token.value;
    this.#pending ??= this.#renew().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Forgets the cached token (after a 401, say): the next call exchanges again. */
  invalidate(): void {
    this.#token = undefined;
  }

  async #renew(): Promise<string> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.#options.attempts; attempt++) {
      try {
        this.exchanges++;
        const started = this.#options.clock();
        const res: TokenResponse = await exchange(
          this.#credentials,
          this.#options.fetch ? { fetch: this.#options.fetch } : {},
        );
        const lifetime = Math.max(0, res.expires_in - this.#options.refreshBeforeMs);
        this.#token = { value: res.access_token, renewAt: started + lifetime };
        return res.access_token;
      } catch (err) {
        lastError = err;
        if (!transient(err) || attempt === this.#options.attempts) break;
        const delay = this.#options.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    throw lastError;
  }
}
