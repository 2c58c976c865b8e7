import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import {
  type ChangeEvent,
  type ReceivedChange,
  SQLITE_EVENT_POLL_MS,
  type SubscribeOptions,
} from '../types.js';

/** Events older than this are deleted when expired records are purged (subscribers poll far more often). */
const KEEP_EVENTS_MS = 10 * 60_000;
const MAX_KEY = 512;

interface Subscriber {
  readonly listener: (event: ReceivedChange) => void;
  readonly options: SubscribeOptions;
}

type EventRow = { seq: number; origin: string; kind: string; key: string; at: number };

/**
 * Change events for processes sharing one SQLite file: each is a row of `lk_events`. Subscribers
 * look every {@link SQLITE_EVENT_POLL_MS} at `PRAGMA data_version`, which moves only when another
 * connection committed (no disk read), and read the rows they have not seen only then. Events
 * published by this store are delivered at once.
 */
export class SqliteChangeFeed {
  readonly #db: Database.Database;
  readonly #origin = randomUUID();
  readonly #subscribers = new Set<Subscriber>();
  #timer: NodeJS.Timeout | undefined;
  #lastSeq = 0;
  #lastVersion = 0;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  /** Records the event (call it outside a transaction of this connection, as the store does). */
  publish(event: ChangeEvent): void {
    const at = Date.now();
    const key = event.key.slice(0, MAX_KEY);
    this.#db
      .prepare('INSERT INTO lk_events (origin, kind, key, at) VALUES (?, ?, ?, ?)')
      .run(this.#origin, event.kind, key, at);
    this.#deliver({ kind: event.kind, key, publishedAt: at, sameStore: true, local: true });
  }

  subscribe(listener: (event: ReceivedChange) => void, options: SubscribeOptions = {}) {
    const subscriber = { listener, options };
    if (this.#subscribers.size === 0) this.#start();
    this.#subscribers.add(subscriber);
    return () => {
      this.#subscribers.delete(subscriber);
      if (this.#subscribers.size === 0) this.stop();
    };
  }

  /** Deletes events every subscriber has long seen. */
  purge(): void {
    this.#db.prepare('DELETE FROM lk_events WHERE at < ?').run(Date.now() - KEEP_EVENTS_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #start() {
    this.#lastVersion = this.#version();
    this.#lastSeq =
      (this.#db.prepare('SELECT MAX(seq) AS seq FROM lk_events').get() as { seq: number | null })
        .seq ?? 0;
    this.#timer = setInterval(() => this.#tick(), SQLITE_EVENT_POLL_MS);
    this.#timer.unref();
  }

  #version(): number {
    return this.#db.pragma('data_version', { simple: true }) as number;
  }

  #tick() {
    if (!this.#db.open || this.#db.inTransaction) return;
    const version = this.#version();
    if (version === this.#lastVersion) return;
    this.#lastVersion = version;
    const rows = this.#db
      .prepare('SELECT seq, origin, kind, key, at FROM lk_events WHERE seq > ? ORDER BY seq')
      .all(this.#lastSeq) as EventRow[];
    for (const row of rows) {
      this.#lastSeq = row.seq;
      if (row.origin === this.#origin) continue;
      this.#deliver({
        kind: row.kind,
        key: row.key,
        publishedAt: row.at,
        sameStore: true,
        local: false,
      });
    }
  }

  #deliver(event: ReceivedChange) {
    for (const s of this.#subscribers) s.listener(event);
  }
}
