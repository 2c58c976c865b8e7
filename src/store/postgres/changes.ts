import { randomUUID } from 'node:crypto';
import pg from 'pg';
import {
  CHANGE_CHANNEL,
  type ChangeEvent,
  RESYNC,
  type ReceivedChange,
  type SubscribeOptions,
} from '../types.js';

/** How often the listening connection proves it is alive (a silent network loss is found so). */
const HEARTBEAT_MS = 5000;
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5000;
/** A key longer than this is cut: events are hints, and NOTIFY payloads are limited to 8000 bytes. */
const MAX_KEY = 512;

interface Subscriber {
  readonly listener: (event: ReceivedChange) => void;
  readonly options: SubscribeOptions;
}

/**
 * Change events over PostgreSQL `LISTEN/NOTIFY`: published with `pg_notify` on the store's pool
 * (inside no transaction: it goes out at once), received on one dedicated connection opened on
 * the first subscription. That connection is watched (client errors, end, and a heartbeat query
 * every {@link HEARTBEAT_MS}); when it goes, subscribers hear of it, it is re-opened with a
 * growing pause (100 ms to 5 s), and a {@link RESYNC} event follows so that what was missed
 * meanwhile is re-read.
 */
export class PostgresChangeFeed {
  readonly #connection: pg.ClientConfig;
  readonly #schema: string;
  /** Tells this process's own events apart from those that come back over the channel. */
  readonly #origin = randomUUID();
  readonly #subscribers = new Set<Subscriber>();
  #client: pg.Client | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #retryMs = FIRST_RETRY_MS;
  #missed = false;
  #closed = false;

  constructor(connection: pg.ClientConfig, schema: string) {
    this.#connection = connection;
    this.#schema = schema;
  }

  async publish(pool: pg.Pool, event: ChangeEvent): Promise<void> {
    const publishedAt = Date.now();
    const key = event.key.slice(0, MAX_KEY);
    this.#deliver({ kind: event.kind, key, publishedAt, sameStore: true, local: true });
    const payload = JSON.stringify({
      s: this.#schema,
      o: this.#origin,
      k: event.kind,
      y: key,
      t: publishedAt,
    });
    await pool.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, payload]);
  }

  subscribe(listener: (event: ReceivedChange) => void, options: SubscribeOptions = {}) {
    const subscriber = { listener, options };
    this.#subscribers.add(subscriber);
    if (!this.#client && !this.#retry && !this.#closed) void this.#connect();
    return () => {
      this.#subscribers.delete(subscriber);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    clearInterval(this.#heartbeat);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  #deliver(event: ReceivedChange) {
    for (const s of this.#subscribers) s.listener(event);
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({
      ...this.#connection,
      // Named after the store's schema, so that an operator (or a test) tells the listeners of
      // several stores in one database apart; PostgreSQL keeps the first 63 bytes.
      application_name: `latchkey-changes ${this.#schema}`.slice(0, 63),
      keepAlive: true,
      connectionTimeoutMillis: 5000,
      query_timeout: 5000,
    });
    this.#client = client;
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client, new Error('the notification connection ended')));
    client.on('notification', (msg) => {
      if (msg.channel === CHANGE_CHANNEL) this.#received(msg.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch (err) {
      this.#lost(client, err);
      return;
    }
    if (this.#client !== client) return;
    this.#retryMs = FIRST_RETRY_MS;
    this.#heartbeat = setInterval(() => {
      client.query('SELECT 1').catch((err) => this.#lost(client, err));
    }, HEARTBEAT_MS);
    this.#heartbeat.unref();
    for (const s of this.#subscribers) s.options.onConnection?.(true);
    if (this.#missed) {
      this.#missed = false;
      this.#deliver({
        kind: RESYNC,
        key: '',
        publishedAt: Date.now(),
        sameStore: true,
        local: true,
      });
    }
  }

  #lost(client: pg.Client, err: unknown) {
    if (this.#client !== client) return; // already handled
    this.#client = undefined;
    clearInterval(this.#heartbeat);
    client.removeAllListeners('notification');
    client.end().catch(() => {});
    if (this.#closed) return;
    this.#missed = true;
    for (const s of this.#subscribers) s.options.onConnection?.(false, err);
    const pause = this.#retryMs;
    this.#retryMs = Math.min(MAX_RETRY_MS, this.#retryMs * 2);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (!this.#closed && this.#subscribers.size > 0) void this.#connect();
    }, pause);
    this.#retry.unref();
  }

  #received(payload: string | undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload ?? '');
    } catch {
      return; // not ours
    }
    const p = parsed as { s?: unknown; o?: unknown; k?: unknown; y?: unknown; t?: unknown };
    if (typeof p.k !== 'string' || typeof p.y !== 'string' || typeof p.t !== 'number') return;
    if (p.o === this.#origin) return; // delivered already, when published
    this.#deliver({
      kind: p.k,
      key: p.y,
      publishedAt: p.t,
      sameStore: p.s === this.#schema,
      local: false,
    });
  }
}
