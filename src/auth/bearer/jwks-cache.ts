import { createPublicKey } from 'node:crypto';
import type { VerificationKey } from '../../access-token/types.js';
import { classify, type ImsConnection, ImsUnreachableError } from './ims-connection.js';

export type { VerificationKey };

/**
 * The IMS's public keys (`GET <ims>/ims/keys`), imported once as KeyObjects: a token signed with
 * a known key is verified with no network call. A token naming an unknown `kid` triggers a
 * refetch (a new key is published before it signs), at most once per `minRefetchMs`, so that
 * forged kids cannot make the instance hammer the IMS. When the IMS cannot be reached, an unknown
 * `kid` is an {@link ImsUnreachableError} (the caller answers 503), not an unknown key; the next
 * attempt is allowed after `retryAfterFailureMs`. The JWKS also names the issuer its keys sign
 * for (the deployment's public URL plus `/ims`): tokens naming another are refused.
 */
export class JwksCache {
  readonly #conn: ImsConnection;
  readonly #minRefetchMs: number;
  readonly #retryAfterFailureMs: number;
  #keys = new Map<string, VerificationKey>();
  #issuer: string | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #failure: ImsUnreachableError | undefined;
  #pending: Promise<void> | undefined;

  constructor(conn: ImsConnection, minRefetchMs = 30_000, retryAfterFailureMs = 5_000) {
    this.#conn = conn;
    this.#minRefetchMs = minRefetchMs;
    this.#retryAfterFailureMs = retryAfterFailureMs;
  }

  /** How many keys are known (health). */
  get size(): number {
    return this.#keys.size;
  }

  /** The issuer the IMS's keys sign for, once its keys were read. */
  get issuer(): string | undefined {
    return this.#issuer;
  }

  /** When the keys were last asked for (ms since the epoch; -Infinity: never). */
  get fetchedAt(): number {
    return this.#fetchedAt;
  }

  /** Milliseconds until the IMS may be asked again (for `Retry-After`). */
  retryInMs(now = Date.now()): number {
    const wait = this.#failure ? this.#retryAfterFailureMs : this.#minRefetchMs;
    return Math.max(0, this.#fetchedAt + wait - now);
  }

  /**
   * The key `kid` names; `undefined` when the IMS (reached now or within `minRefetchMs`) does not
   * publish it. Throws {@link ImsUnreachableError} when the key is unknown and the IMS could not
   * be reached to look for it.
   */
  async get(kid: string): Promise<VerificationKey | undefined> {
    const known = this.#keys.get(kid);
    if (known) return known;
    // A fetch under way is waited for: the first requests after a start (or a new key) arrive
    // together, and all but one were refused while the one fetch was still running.
    if (this.#pending === undefined && this.retryInMs() > 0) {
      if (this.#failure) throw this.#failure;
      return undefined;
    }
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    await this.#pending;
    const key = this.#keys.get(kid);
    if (!key && this.#failure) throw this.#failure;
    return key;
  }

  async #fetch(): Promise<void> {
    this.#fetchedAt = Date.now();
    let body: { keys?: Record<string, unknown>[]; issuer?: unknown };
    try {
      body = (await this.#conn.getJson('/ims/keys')) as typeof body;
    } catch (err) {
      this.#failure = classify(err, `${this.#conn.url}/ims/keys`, 0);
      return;
    }
    if (!body || !Array.isArray(body.keys) || typeof body.issuer !== 'string') {
      this.#failure = new ImsUnreachableError(
        'bad_response',
        `${this.#conn.url}/ims/keys: not a JWKS naming its issuer`,
      );
      return;
    }
    this.#failure = undefined;
    const next = new Map<string, VerificationKey>();
    for (const jwk of body.keys) {
      const kid = jwk['kid'];
      const alg = jwk['alg'];
      if (typeof kid !== 'string' || (alg !== 'ES256' && alg !== 'RS256')) continue;
      try {
        next.set(kid, { kid, alg, key: createPublicKey({ key: jwk as never, format: 'jwk' }) });
      } catch {
        // a key this runtime cannot import is skipped, not fatal
      }
    }
    this.#keys = next;
    this.#issuer = body.issuer;
  }
}
