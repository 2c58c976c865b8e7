/**
 * The storage contract. Domain code imports only this file; `sqlite/` and `postgres/` implement
 * it, and `test/contract/store.contract.ts` checks both against the same suite.
 *
 * Two kinds of data:
 *
 * - **Nodes**: the content repository's tree. A node has an absolute path (`/content/dam`), a
 *   primary type and a JSON object of properties (opaque here; `repository/` gives it meaning).
 *   Children keep creation order. The store does not enforce that parents exist: the repository
 *   layer does, inside a transaction.
 * - **Records**: small JSON documents addressed by namespace and key (credentials, replay caches,
 *   revocations, access-control lists…), with an optional expiry.
 *
 * Guarantees, on every backend:
 *
 * 1. **Atomic transactions.** {@link Store.transaction} runs a function whose writes all happen
 *    or none do, isolated as if transactions ran one at a time (SQLite: one writer at a time;
 *    PostgreSQL: SERIALIZABLE, and the function is re-run on a serialization failure, so it must
 *    have no effects outside the store). Inside, use only the `tx` handle it is given.
 * 2. **Exactly one winner.** Under concurrent calls for the same namespace and key, exactly one
 *    {@link StoreOps.insertRecord} returns `true`, and exactly one {@link StoreOps.consumeRecord}
 *    returns the record. This holds across processes sharing a PostgreSQL store.
 * 3. **Expiry by time, never by eviction.** A record with `expiresAt` is visible until that instant
 *    (milliseconds since the epoch, by the store's clock) and invisible after it, whether or not
 *    {@link Store.purgeExpired} has run. Nothing is ever dropped for lack of space.
 * 4. **Durability.** A resolved write has been committed (SQLite WAL with `synchronous=FULL`;
 *    PostgreSQL commit).
 * 5. **Change events.** {@link Store.publish} tells every process subscribed to the store
 *    ({@link Store.subscribe}) that something changed, so that caches are dropped without waiting
 *    for their time to live. PostgreSQL: `NOTIFY` on the channel {@link CHANGE_CHANNEL}, received
 *    over one dedicated connection per store, within milliseconds; a lost connection is reported,
 *    re-opened with backoff and followed by a {@link RESYNC} event (anything may have changed
 *    meanwhile). SQLite: a change table that every process on the file checks when the file's
 *    `data_version` moves, at most {@link SQLITE_EVENT_POLL_MS} later. Events are hints, not
 *    data: they may arrive twice, never carry a secret, and a subscriber re-reads the store.
 */

/** A JSON value, as records and node properties are stored. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface NodeRecord {
  /** Absolute, normalized path: `/` or `/a/b` (no trailing slash, no empty segment). */
  readonly path: string;
  readonly primaryType: string;
  readonly properties: Readonly<Record<string, Json>>;
}

export interface StoredRecord {
  readonly ns: string;
  readonly key: string;
  readonly value: Json;
  /** Milliseconds since the epoch, or `undefined` for a record that never expires. */
  readonly expiresAt: number | undefined;
}

export interface RecordOptions {
  /** When the record stops existing (ms since the epoch). */
  readonly expiresAt?: number | undefined;
}

export interface ListOptions {
  readonly prefix?: string | undefined;
  /** Only keys that sort after this one (by code point, as the keys' order). */
  readonly after?: string | undefined;
  readonly limit?: number | undefined;
}

/** Operations available both on the store and on a transaction handle. */
export interface StoreOps {
  getNode(path: string): Promise<NodeRecord | undefined>;
  /** Children of `path` in creation order, at most `limit` (default: all). */
  listChildren(path: string, options?: { limit?: number }): Promise<NodeRecord[]>;
  /**
   * Descendants of `path` (not `path` itself) at most `maxDepth` levels below it, parents before
   * children and siblings in creation order, at most `limit` of them.
   */
  listDescendants(
    path: string,
    options: { maxDepth: number; limit: number },
  ): Promise<NodeRecord[]>;
  /** Creates or replaces a node; a replaced node keeps its place among its siblings. */
  putNode(node: NodeRecord): Promise<void>;
  /** Deletes the node at `path` and everything below it; returns how many nodes went. */
  deleteTree(path: string): Promise<number>;

  getRecord(ns: string, key: string): Promise<StoredRecord | undefined>;
  /**
   * Live records of a namespace whose key starts with `prefix` (and, with `after`, sorts after
   * it: to page through a namespace), in key order, at most `limit`.
   */
  listRecords(ns: string, options?: ListOptions): Promise<StoredRecord[]>;
  /** Creates or replaces a record. */
  putRecord(ns: string, key: string, value: Json, options?: RecordOptions): Promise<void>;
  /**
   * Creates the record only if no live record has that key (an expired one counts as absent).
   * Returns whether this call created it: exactly one of concurrent callers gets `true`.
   */
  insertRecord(ns: string, key: string, value: Json, options?: RecordOptions): Promise<boolean>;
  /** Deletes a live record and returns it: exactly one of concurrent callers gets it. */
  consumeRecord(ns: string, key: string): Promise<StoredRecord | undefined>;
  /** Returns whether a live record was deleted. */
  deleteRecord(ns: string, key: string): Promise<boolean>;
  /** Deletes every record of the namespace whose key starts with `prefix`; returns the count. */
  deleteRecords(ns: string, options: { prefix: string }): Promise<number>;
}

/** The PostgreSQL channel change events travel on (database-wide: every schema's events). */
export const CHANGE_CHANNEL = 'latchkey_changes';
/** How often an SQLite store looks for events published by other processes on its file. */
export const SQLITE_EVENT_POLL_MS = 200;
/** The event kind that says "anything may have changed" (after a lost notification connection). */
export const RESYNC = 'resync';

/** What changed: a kind (`user`, `acl`, `revocation`…) and a key within it (an id, a path). */
export interface ChangeEvent {
  readonly kind: string;
  readonly key: string;
}

/** A change event as a subscriber receives it. */
export interface ReceivedChange extends ChangeEvent {
  /** When the publisher sent it (ms since the epoch, the publisher's clock). */
  readonly publishedAt: number;
  /**
   * Whether it was published on this very store. PostgreSQL delivers the events of every schema
   * of the database (`false` for the others): an instance learns its IMS's revocations when they
   * share a database, each in its own schema.
   */
  readonly sameStore: boolean;
  /** Whether this process published it (delivered at once, without a round trip). */
  readonly local: boolean;
}

export interface SubscribeOptions {
  /** The notification connection went down (`up: false`, with the reason) or came back. */
  readonly onConnection?: (up: boolean, err?: unknown) => void;
}

export interface Store extends StoreOps {
  readonly backend: 'sqlite' | 'postgres';
  /** Runs `fn` atomically (see guarantee 1). Its result is returned once committed. */
  transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T>;
  /** Physically removes expired records; returns how many. Visibility never depends on it. */
  purgeExpired(): Promise<number>;
  /**
   * Tells every subscriber of the store, in this and other processes, that `event` happened.
   * Call it after the change committed. Resolves once the event is on its way to other processes.
   */
  publish(event: ChangeEvent): Promise<void>;
  /**
   * Calls `listener` for every change event (see guarantee 5) until the returned function is
   * called. The listener must not throw.
   */
  subscribe(listener: (event: ReceivedChange) => void, options?: SubscribeOptions): () => void;
  /** Resolves when the backend answers a trivial query (health checks). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** Clock used for expiry (ms since the epoch). Default `Date.now`. */
  readonly clock?: () => number;
  /**
   * Whether opening may create the store (SQLite: the file; PostgreSQL: the tables). Default
   * `true`. With `false`, opening a store that does not exist yet fails with `no_store` and
   * creates nothing: commands that work on an existing store use it.
   */
  readonly create?: boolean;
}
