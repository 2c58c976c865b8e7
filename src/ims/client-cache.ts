import { TTLCache } from '@isaacs/ttlcache';
import { CHANGE } from '../farm/changes.js';
import { RESYNC, type Store, type StoreOps } from '../store/types.js';
import { type Integration, NS } from './model.js';
import { certificateKeysOf } from './verify-integration-jwt.js';

/**
 * How long an authenticated client is kept at most when no change event says it changed: the
 * bound for a process that missed an event without noticing (change events are hints, see
 * store/types.ts). While the store says its notification connection is down, nothing is cached.
 */
export const CLIENT_CACHE_TTL_MS = 30_000;

/** An integration as client authentication uses it, parsed once per record. */
export interface CachedClient {
  readonly integration: Integration;
  /** The salt and SHA-256 of the client secret (`sha256:<salt>:<hash>`), decoded. */
  readonly secretSalt: Buffer;
  readonly secretHash: Buffer;
}

function cachedClient(integration: Integration): CachedClient {
  const [, salt, hash] = integration.secretHash.split(':');
  // The certificates' public keys, imported now, once for this record (verify-integration-jwt.ts).
  certificateKeysOf(integration);
  return {
    integration,
    secretSalt: Buffer.from(salt ?? '', 'base64url'),
    secretHash: Buffer.from(hash ?? '', 'base64url'),
  };
}

/** The live integration `clientId` names (not revoked), read from the store. */
export async function readClient(
  store: StoreOps,
  clientId: string,
): Promise<CachedClient | undefined> {
  const integration = (await store.getRecord(NS.integration, clientId))?.value as unknown as
    | Integration
    | undefined;
  return integration && !integration.revoked ? cachedClient(integration) : undefined;
}

/**
 * Authenticated clients (the integration record, its certificates' keys, its secret's hash) kept
 * until they change, so that an exchange reads and parses nothing of its client. A revocation or
 * certificate change announces {@link CHANGE.integration}: the process that made it drops the
 * entry before the change's call returns (local events are delivered at once), the other IMS
 * processes of the store when the event arrives (PostgreSQL: NOTIFY, within milliseconds;
 * SQLite: within 200 ms, `SQLITE_EVENT_POLL_MS`); an entry lives {@link CLIENT_CACHE_TTL_MS} at
 * most, and nothing is cached while the notification connection is down. Unknown and revoked
 * clients are never cached.
 */
export class ClientCache {
  readonly #store: Store;
  readonly #cache = new TTLCache<string, CachedClient>({ max: 10_000, ttl: CLIENT_CACHE_TTL_MS });
  /** Bumped on every change: a read that started before one does not fill the cache. */
  #generation = 0;
  #feedUp = true;
  readonly #unsubscribe: () => void;
  readonly stats = { hits: 0, misses: 0 };

  constructor(store: Store) {
    this.#store = store;
    this.#unsubscribe = store.subscribe(
      (event) => {
        // This process's own changes too (delivered before publish returns), and those of every
        // other process of this store; a resync means anything may have changed.
        if (event.kind === RESYNC || (event.kind === CHANGE.integration && event.sameStore))
          this.drop(event.kind === RESYNC ? undefined : event.key);
      },
      {
        onConnection: (up) => {
          this.#feedUp = up;
          this.drop();
        },
      },
    );
  }

  /** Forgets `clientId` (or every client). */
  drop(clientId?: string): void {
    this.#generation++;
    if (clientId === undefined) this.#cache.clear();
    else this.#cache.delete(clientId);
  }

  /** The live integration `clientId` names, from the cache or the store. */
  async get(clientId: string): Promise<CachedClient | undefined> {
    const hit = this.#feedUp ? this.#cache.get(clientId) : undefined;
    if (hit) {
      this.stats.hits++;
      return hit;
    }
    this.stats.misses++;
    const generation = this.#generation;
    const client = await readClient(this.#store, clientId);
    if (client && this.#feedUp && generation === this.#generation)
      this.#cache.set(clientId, client);
    return client;
  }

  close(): void {
    this.#unsubscribe();
    this.#cache.clear();
  }
}
