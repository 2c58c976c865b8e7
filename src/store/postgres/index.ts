import pg from 'pg';
import { DataFolderError, StoreError, StoreUnavailableError } from '../../errors.js';
import { depthOf, descendantRange, parentOf, prefixUpperBound } from '../ranges.js';
import type {
  ChangeEvent,
  Json,
  ListOptions,
  NodeRecord,
  ReceivedChange,
  RecordOptions,
  Store,
  StoredRecord,
  StoreOps,
  StoreOptions,
  SubscribeOptions,
} from '../types.js';
import { PostgresChangeFeed } from './changes.js';
import { POSTGRES_SCHEMA } from './schema.js';
import { storeFailure } from './unavailable.js';

type Queryable = Pick<pg.PoolClient, 'query'>;
type NodeRow = { path: string; primary_type: string; properties: string };
type RecordRow = { ns: string; key: string; value: string; expires_at: string | null };

const toNode = (row: NodeRow): NodeRecord => ({
  path: row.path,
  primaryType: row.primary_type,
  properties: JSON.parse(row.properties),
});
const toRecord = (row: RecordRow): StoredRecord => ({
  ns: row.ns,
  key: row.key,
  value: JSON.parse(row.value),
  expiresAt: row.expires_at === null ? undefined : Number(row.expires_at),
});

/** SQLSTATEs after which a SERIALIZABLE transaction is simply re-run. */
const RETRYABLE = new Set(['40001', '40P01']);
/**
 * Every round of conflicting transactions commits at least one of them, so N contenders on one
 * row need at most N attempts; the jittered, growing pause spreads them out.
 */
const MAX_ATTEMPTS = 30;

/** The schema holds no store yet (and opening may not create one). */
class NoTables extends Error {}

export interface PostgresStoreOptions extends StoreOptions {
  /** Pool size per process (default 10). */
  readonly max?: number;
}

/**
 * The shared store: several processes (IMS instances, an author cluster) use one PostgreSQL
 * database. Use {@link PostgresStore.open}; `?schema=NAME` in the URL selects a schema other
 * than `public` (created if missing).
 *
 * While the server cannot be reached (stopped, restarting, network down), every operation fails
 * with `StoreUnavailableError` and nothing is half done: a transaction whose connection broke
 * was not committed (or, if COMMIT itself was cut off, it is not acknowledged). The pool opens new
 * connections as soon as the server answers again, so the process recovers by itself.
 */
export class PostgresStore implements Store {
  readonly backend = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #clock: () => number;
  readonly #ops: PostgresOps;
  readonly #changes: PostgresChangeFeed;

  private constructor(pool: pg.Pool, clock: () => number, changes: PostgresChangeFeed) {
    this.#pool = pool;
    this.#clock = clock;
    this.#ops = new PostgresOps(pool, clock);
    this.#changes = changes;
  }

  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const parsed = new URL(url);
    const schema = parsed.searchParams.get('schema') ?? 'public';
    parsed.searchParams.delete('schema');
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new StoreError(
        `schema must be a lowercase SQL identifier, got ${JSON.stringify(schema)}`,
      );
    }
    const pool = new pg.Pool({
      connectionString: parsed.href,
      max: options.max ?? 10,
      // Bounds how long a request waits for a server that does not answer at all (a refused
      // connection fails at once): then 503, not a hung request.
      connectionTimeoutMillis: 5_000,
      options: `-c search_path=${schema}`,
    });
    // An idle client that loses its connection must not crash the process: the pool drops it
    // and connects anew on the next request.
    pool.on('error', () => {});
    const store = new PostgresStore(
      pool,
      options.clock ?? Date.now,
      new PostgresChangeFeed({ connectionString: parsed.href }, schema),
    );
    try {
      const client = await pool.connect();
      try {
        // Processes starting together must not race on CREATE TABLE. And once the schema
        // exists, no DDL at all: even CREATE INDEX IF NOT EXISTS locks the table, and could
        // deadlock with another process already writing to it.
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock(7391842201)');
        const { rows } = await client.query<{ ready: string | null }>(
          `SELECT to_regclass('"${schema}".lk_meta')::text AS ready`,
        );
        if (rows[0]?.ready === null || rows[0] === undefined) {
          if (options.create === false) throw new NoTables();
          await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
          await client.query(POSTGRES_SCHEMA);
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end().catch(() => {});
      const where = `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
      if (err instanceof NoTables)
        throw new DataFolderError(
          'no_store',
          `no store in PostgreSQL at ${where} (schema ${schema})`,
        );
      throw new StoreError(`cannot open PostgreSQL store at ${where}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return store;
  }

  getNode(path: string) {
    return this.#ops.getNode(path);
  }
  listChildren(path: string, options?: { limit?: number }) {
    return this.#ops.listChildren(path, options);
  }
  listDescendants(path: string, options: { maxDepth: number; limit: number }) {
    return this.#ops.listDescendants(path, options);
  }
  putNode(node: NodeRecord) {
    return this.#ops.putNode(node);
  }
  deleteTree(path: string) {
    return this.#ops.deleteTree(path);
  }
  getRecord(ns: string, key: string) {
    return this.#ops.getRecord(ns, key);
  }
  listRecords(ns: string, options?: ListOptions) {
    return this.#ops.listRecords(ns, options);
  }
  putRecord(ns: string, key: string, value: Json, options?: RecordOptions) {
    return this.#ops.putRecord(ns, key, value, options);
  }
  insertRecord(ns: string, key: string, value: Json, options?: RecordOptions) {
    return this.#ops.insertRecord(ns, key, value, options);
  }
  consumeRecord(ns: string, key: string) {
    return this.#ops.consumeRecord(ns, key);
  }
  deleteRecord(ns: string, key: string) {
    return this.#ops.deleteRecord(ns, key);
  }
  deleteRecords(ns: string, options: { prefix: string }) {
    return this.#ops.deleteRecords(ns, options);
  }

  async transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw storeFailure(err);
    }
    // A client whose connection broke is destroyed, not handed to the next request. While it is
    // checked out, the pool no longer listens for its errors: a connection lost between two
    // queries would otherwise be an unhandled 'error' event, which ends the process.
    let broken: Error | undefined;
    const onError = (err: Error) => {
      broken = new StoreUnavailableError({ cause: err });
    };
    client.on('error', onError);
    try {
      for (let attempt = 1; ; attempt++) {
        const tx = new PostgresOps(client, this.#clock);
        try {
          await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
          const result = await fn(tx);
          await client.query('COMMIT');
          return result;
        } catch (err) {
          const failure = storeFailure(err);
          if (failure instanceof StoreUnavailableError) {
            broken = failure;
            throw failure;
          }
          await client.query('ROLLBACK').catch(() => {});
          const code = (err as { code?: string }).code;
          if (!code || !RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS) throw err;
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 2 ** attempt)));
        } finally {
          tx.close();
        }
      }
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async purgeExpired(): Promise<number> {
    try {
      const res = await this.#pool.query(
        'DELETE FROM lk_records WHERE expires_at IS NOT NULL AND expires_at <= $1',
        [this.#clock()],
      );
      return res.rowCount ?? 0;
    } catch (err) {
      throw storeFailure(err);
    }
  }

  async publish(event: ChangeEvent): Promise<void> {
    try {
      await this.#changes.publish(this.#pool, event);
    } catch (err) {
      throw storeFailure(err);
    }
  }

  subscribe(listener: (event: ReceivedChange) => void, options?: SubscribeOptions) {
    return this.#changes.subscribe(listener, options);
  }

  async ping(): Promise<void> {
    try {
      await this.#pool.query('SELECT 1');
    } catch (err) {
      throw storeFailure(err);
    }
  }

  async close(): Promise<void> {
    await this.#changes.close();
    await this.#pool.end();
  }
}

class PostgresOps implements StoreOps {
  readonly #db: Queryable;
  readonly #clock: () => number;
  #closed = false;

  constructor(db: Queryable, clock: () => number) {
    this.#db = db;
    this.#clock = clock;
  }

  close() {
    this.#closed = true;
  }

  async #q<R extends pg.QueryResultRow>(
    sql: string,
    params: unknown[],
  ): Promise<pg.QueryResult<R>> {
    if (this.#closed) throw new TypeError('transaction handle used after its transaction ended');
    try {
      return await this.#db.query<R>(sql, params);
    } catch (err) {
      throw storeFailure(err);
    }
  }

  async getNode(path: string) {
    const { rows } = await this.#q<NodeRow>(
      'SELECT path, primary_type, properties FROM lk_nodes WHERE path = $1',
      [path],
    );
    return rows[0] ? toNode(rows[0]) : undefined;
  }

  async listChildren(path: string, options: { limit?: number } = {}) {
    const { rows } = await this.#q<NodeRow>(
      'SELECT path, primary_type, properties FROM lk_nodes WHERE parent = $1 ORDER BY seq LIMIT $2',
      [path, options.limit ?? null],
    );
    return rows.map(toNode);
  }

  async listDescendants(path: string, options: { maxDepth: number; limit: number }) {
    const { lower, upper } = descendantRange(path);
    const { rows } = await this.#q<NodeRow>(
      `SELECT path, primary_type, properties FROM lk_nodes
       WHERE path > $1 AND path < $2 AND depth <= $3 ORDER BY depth, seq LIMIT $4`,
      [lower, upper, depthOf(path) + options.maxDepth, options.limit],
    );
    return rows.map(toNode);
  }

  async putNode(node: NodeRecord) {
    await this.#q(
      `INSERT INTO lk_nodes (path, parent, depth, primary_type, properties)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (path) DO UPDATE SET primary_type = excluded.primary_type,
         properties = excluded.properties`,
      [
        node.path,
        parentOf(node.path),
        depthOf(node.path),
        node.primaryType,
        JSON.stringify(node.properties),
      ],
    );
  }

  async deleteTree(path: string) {
    const { lower, upper } = descendantRange(path);
    const res = await this.#q('DELETE FROM lk_nodes WHERE path = $1 OR (path > $2 AND path < $3)', [
      path,
      lower,
      upper,
    ]);
    return res.rowCount ?? 0;
  }

  async getRecord(ns: string, key: string) {
    const { rows } = await this.#q<RecordRow>(
      `SELECT ns, key, value, expires_at FROM lk_records
       WHERE ns = $1 AND key = $2 AND (expires_at IS NULL OR expires_at > $3)`,
      [ns, key, this.#clock()],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async listRecords(ns: string, options: ListOptions = {}) {
    const prefix = options.prefix ?? '';
    const { rows } = await this.#q<RecordRow>(
      `SELECT ns, key, value, expires_at FROM lk_records
       WHERE ns = $1 AND key >= $2 AND ($3::text IS NULL OR key < $3)
         AND ($6::text IS NULL OR key > $6)
         AND (expires_at IS NULL OR expires_at > $4)
       ORDER BY key LIMIT $5`,
      [
        ns,
        prefix,
        prefixUpperBound(prefix) ?? null,
        this.#clock(),
        options.limit ?? null,
        options.after ?? null,
      ],
    );
    return rows.map(toRecord);
  }

  async putRecord(ns: string, key: string, value: Json, options: RecordOptions = {}) {
    await this.#q(
      `INSERT INTO lk_records (ns, key, value, expires_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
      [ns, key, JSON.stringify(value), options.expiresAt ?? null],
    );
  }

  async insertRecord(ns: string, key: string, value: Json, options: RecordOptions = {}) {
    // A concurrent inserter waits on the row lock, then re-checks the WHERE against the winner's
    // row (live): it updates nothing and returns no row. Exactly one caller sees a row.
    const { rows } = await this.#q(
      `INSERT INTO lk_records (ns, key, value, expires_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
         WHERE lk_records.expires_at IS NOT NULL AND lk_records.expires_at <= $5
       RETURNING 1 AS ok`,
      [ns, key, JSON.stringify(value), options.expiresAt ?? null, this.#clock()],
    );
    return rows.length > 0;
  }

  async consumeRecord(ns: string, key: string) {
    const { rows } = await this.#q<RecordRow>(
      `DELETE FROM lk_records
       WHERE ns = $1 AND key = $2 AND (expires_at IS NULL OR expires_at > $3)
       RETURNING ns, key, value, expires_at`,
      [ns, key, this.#clock()],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async deleteRecord(ns: string, key: string) {
    const res = await this.#q(
      'DELETE FROM lk_records WHERE ns = $1 AND key = $2 AND (expires_at IS NULL OR expires_at > $3)',
      [ns, key, this.#clock()],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async deleteRecords(ns: string, options: { prefix: string }) {
    const res = await this.#q(
      'DELETE FROM lk_records WHERE ns = $1 AND key >= $2 AND ($3::text IS NULL OR key < $3)',
      [ns, options.prefix, prefixUpperBound(options.prefix) ?? null],
    );
    return res.rowCount ?? 0;
  }
}
