import { createPublicKey, type KeyObject } from 'node:crypto';

export interface VerificationKey {
  readonly kid: string;
  readonly alg: 'ES256' | 'RS256';
  readonly key: KeyObject;
}

/**
 * The IMS's public keys (`GET <ims>/ims/keys`), imported once as KeyObjects. A token naming an
 * unknown `kid` triggers a refetch (a new key is published before it signs), at most once per
 * `minRefetchMs`, so that forged kids cannot make the instance hammer the IMS.
 */
export class JwksCache {
  readonly #url: string;
  readonly #minRefetchMs: number;
  #keys = new Map<string, VerificationKey>();
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #pending: Promise<void> | undefined;

  constructor(imsUrl: string, minRefetchMs = 30_000) {
    this.#url = `${imsUrl}/ims/keys`;
    this.#minRefetchMs = minRefetchMs;
  }

  async get(kid: string): Promise<VerificationKey | undefined> {
    const known = this.#keys.get(kid);
    if (known) return known;
    if (Date.now() - this.#fetchedAt < this.#minRefetchMs) return undefined;
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    await this.#pending;
    return this.#keys.get(kid);
  }

  async #fetch(): Promise<void> {
    this.#fetchedAt = Date.now();
    const res = await fetch(this.#url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`IMS keys answered HTTP ${res.status}`);
    const body = (await res.json()) as { keys?: Record<string, unknown>[] };
    const next = new Map<string, VerificationKey>();
    for (const jwk of body.keys ?? []) {
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
  }
}
