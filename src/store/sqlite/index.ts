import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { DataFolderError, StoreError } from '../../errors.js';
import { secureStoreFiles, warnRepairs } from '../../fs/secure-folder.js';
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
import { SqliteChangeFeed } from './changes.js';
import { SQLITE_SCHEMA } from './schema.js';

type NodeRow = { path: string; primary_type: string; properties: string };
type RecordRow = { ns: string; key: string; value: string; expires_at: number | null };

const toNode = (row: NodeRow): NodeRecord => ({
  path: row.path,
  primaryType: row.primary_type,
  properties: JSON.parse(row.properties),
});
const toRecord = (row: RecordRow): StoredRecord => ({
  ns: row.ns,
  key: row.key,
  value: JSON.parse(row.value),
  expiresAt: row.expires_at ?? undefined,
});

/**
 * The embedded store: one SQLite file (WAL, synchronous FULL). better-sqlite3 is synchronous, so
 * each statement is atomic with respect to this process's event loop; a transaction may await in
 * the middle, so while one is open every other operation waits for it (see `#run`). Other
 * processes on the same file are serialized by SQLite's write lock (`BEGIN IMMEDIATE`, 5 s busy
 * timeout).
 */
export class SqliteStore implements Store {
  readonly backend = 'sqlite' as const;
  readonly #db: Database.Database;
  readonly #clock: () => number;
  readonly #ops: SqliteOps;
  readonly #gate: Gate;
  readonly #changes: SqliteChangeFeed;

  constructor(file: string, options: StoreOptions = {}) {
    const onDisk = file !== ':memory:';
    if (onDisk && options.create === false && !existsSync(file))
      throw new DataFolderError('no_store', `no store at ${file}`);
    try {
      if (onDisk) {
        mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
        // Created 0600 before SQLite opens it: SQLite gives its -wal and -shm files the mode of
        // the database file, so none of them is ever readable by other users.
        closeSync(openSync(file, 'a', 0o600));
        warnRepairs(secureStoreFiles(file));
      }
      this.#db = new Database(file);
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = FULL');
      this.#db.pragma('busy_timeout = 5000');
      this.#db.pragma('foreign_keys = ON');
      this.#db.exec(SQLITE_SCHEMA);
      if (onDisk) warnRepairs(secureStoreFiles(file));
    } catch (err) {
      throw new StoreError(`cannot open SQLite store ${file}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.#clock = options.clock ?? Date.now;
    this.#gate = gateFor(file);
    this.#ops = new SqliteOps(this.#db, this.#clock);
    this.#changes = new SqliteChangeFeed(this.#db);
  }

  /**
   * Runs `op` once no transaction is open. The check and the call happen in one synchronous
   * step: an `await` between them would let a transaction begin and swallow the operation.
   */
  async #run<T>(op: () => T): Promise<Awaited<T>> {
    while (this.#gate.busy) await this.#gate.busy;
    return await op();
  }

  getNode(path: string) {
    return this.#run(() => this.#ops.getNode(path));
  }
  listChildren(path: string, options?: { limit?: number }) {
    return this.#run(() => this.#ops.listChildren(path, options));
  }
  listDescendants(path: string, options: { maxDepth: number; limit: number }) {
    return this.#run(() => this.#ops.listDescendants(path, options));
  }
  putNode(node: NodeRecord) {
    return this.#run(() => this.#ops.putNode(node));
  }
  deleteTree(path: string) {
    return this.#run(() => this.#ops.deleteTree(path));
  }
  getRecord(ns: string, key: string) {
    return this.#run(() => this.#ops.getRecord(ns, key));
  }
  listRecords(ns: string, options?: ListOptions) {
    return this.#run(() => this.#ops.listRecords(ns, options));
  }
  putRecord(ns: string, key: string, value: Json, options?: RecordOptions) {
    return this.#run(() => this.#ops.putRecord(ns, key, value, options));
  }
  insertRecord(ns: string, key: string, value: Json, options?: RecordOptions) {
    return this.#run(() => this.#ops.insertRecord(ns, key, value, options));
  }
  consumeRecord(ns: string, key: string) {
    return this.#run(() => this.#ops.consumeRecord(ns, key));
  }
  deleteRecord(ns: string, key: string) {
    return this.#run(() => this.#ops.deleteRecord(ns, key));
  }
  deleteRecords(ns: string, options: { prefix: string }) {
    return this.#run(() => this.#ops.deleteRecords(ns, options));
  }

  async transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T> {
    while (this.#gate.busy) await this.#gate.busy;
    let release!: () => void;
    this.#gate.busy = new Promise<void>((r) => {
      release = r;
    });
    const tx = new SqliteOps(this.#db, this.#clock);
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      const result = await fn(tx);
      this.#db.exec('COMMIT');
      return result;
    } catch (err) {
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      throw err;
    } finally {
      tx.close();
      this.#gate.busy = undefined;
      release();
    }
  }

  purgeExpired(): Promise<number> {
    return this.#run(() => {
      this.#changes.purge();
      return this.#db
        .prepare('DELETE FROM lk_records WHERE expires_at IS NOT NULL AND expires_at <= ?')
        .run(this.#clock()).changes;
    });
  }

  publish(event: ChangeEvent): Promise<void> {
    return this.#run(() => this.#changes.publish(event));
  }

  subscribe(listener: (event: ReceivedChange) => void, options?: SubscribeOptions) {
    return this.#changes.subscribe(listener, options);
  }

  async ping(): Promise<void> {
    await this.#run(() => this.#db.prepare('SELECT 1').get());
  }

  async close(): Promise<void> {
    this.#changes.stop();
    await this.#run(() => {
      if (this.#db.open) this.#db.close();
    });
  }
}

/**
 * One gate per database file in this process. Two connections to one file in one process must
 * not interleave a transaction with other writes: the second would wait for SQLite's lock
 * synchronously, blocking the event loop the first needs to commit.
 */
interface Gate {
  busy: Promise<void> | undefined;
}
const gates = new Map<string, Gate>();
function gateFor(file: string): Gate {
  if (file === ':memory:') return { busy: undefined };
  const key = resolve(file);
  let gate = gates.get(key);
  if (!gate) {
    gate = { busy: undefined };
    gates.set(key, gate);
  }
  return gate;
}

/** Prepared statements per connection, shared by the store and its transaction handles. */
const statementCache = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/** The synchronous operations, bound to one connection; statements are prepared once. */
class SqliteOps implements StoreOps {
  readonly #db: Database.Database;
  readonly #clock: () => number;
  #closed = false;
  readonly #stmt: Map<string, Database.Statement>;

  constructor(db: Database.Database, clock: () => number) {
    this.#db = db;
    this.#clock = clock;
    let stmt = statementCache.get(db);
    if (!stmt) {
      stmt = new Map();
      statementCache.set(db, stmt);
    }
    this.#stmt = stmt;
  }

  close() {
    this.#closed = true;
  }

  #q(sql: string): Database.Statement {
    if (this.#closed) throw new TypeError('transaction handle used after its transaction ended');
    let s = this.#stmt.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#stmt.set(sql, s);
    }
    return s;
  }

  async getNode(path: string) {
    const row = this.#q('SELECT path, primary_type, properties FROM lk_nodes WHERE path = ?').get(
      path,
    ) as NodeRow | undefined;
    return row ? toNode(row) : undefined;
  }

  async listChildren(path: string, options: { limit?: number } = {}) {
    const rows = this.#q(
      'SELECT path, primary_type, properties FROM lk_nodes WHERE parent = ? ORDER BY rowid LIMIT ?',
    ).all(path, options.limit ?? -1) as NodeRow[];
    return rows.map(toNode);
  }

  async listDescendants(path: string, options: { maxDepth: number; limit: number }) {
    const { lower, upper } = descendantRange(path);
    const rows = this.#q(
      `SELECT path, primary_type, properties FROM lk_nodes
       WHERE path > ? AND path < ? AND depth <= ? ORDER BY depth, rowid LIMIT ?`,
    ).all(lower, upper, depthOf(path) + options.maxDepth, options.limit) as NodeRow[];
    return rows.map(toNode);
  }

  async putNode(node: NodeRecord) {
    this.#q(
      `INSERT INTO lk_nodes (path, parent, depth, primary_type, properties) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (path) DO UPDATE SET primary_type = excluded.primary_type,
         properties = excluded.properties`,
    ).run(
      node.path,
      parentOf(node.path),
      depthOf(node.path),
      node.primaryType,
      JSON.stringify(node.properties),
    );
  }

  async deleteTree(path: string) {
    const { lower, upper } = descendantRange(path);
    return this.#q('DELETE FROM lk_nodes WHERE path = ? OR (path > ? AND path < ?)').run(
      path,
      lower,
      upper,
    ).changes;
  }

  async getRecord(ns: string, key: string) {
    const row = this.#q(
      `SELECT ns, key, value, expires_at FROM lk_records
       WHERE ns = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)`,
    ).get(ns, key, this.#clock()) as RecordRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  async listRecords(ns: string, options: ListOptions = {}) {
    const prefix = options.prefix ?? '';
    const upper = prefixUpperBound(prefix);
    const rows = this.#q(
      `SELECT ns, key, value, expires_at FROM lk_records
       WHERE ns = ? AND key >= ? AND (? IS NULL OR key < ?) AND (? IS NULL OR key > ?)
         AND (expires_at IS NULL OR expires_at > ?)
       ORDER BY key LIMIT ?`,
    ).all(
      ns,
      prefix,
      upper ?? null,
      upper ?? null,
      options.after ?? null,
      options.after ?? null,
      this.#clock(),
      options.limit ?? -1,
    ) as RecordRow[];
    return rows.map(toRecord);
  }

  async putRecord(ns: string, key: string, value: Json, options: RecordOptions = {}) {
    this.#q(
      `INSERT INTO lk_records (ns, key, value, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    ).run(ns, key, JSON.stringify(value), options.expiresAt ?? null);
  }

  async insertRecord(ns: string, key: string, value: Json, options: RecordOptions = {}) {
    // One statement: an expired row is overwritten, a live one left alone (no row returned).
    const row = this.#q(
      `INSERT INTO lk_records (ns, key, value, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
         WHERE lk_records.expires_at IS NOT NULL AND lk_records.expires_at <= ?
       RETURNING 1 AS ok`,
    ).get(ns, key, JSON.stringify(value), options.expiresAt ?? null, this.#clock());
    return row !== undefined;
  }

  async consumeRecord(ns: string, key: string) {
    const row = this.#q(
      `DELETE FROM lk_records WHERE ns = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)
       RETURNING ns, key, value, expires_at`,
    ).get(ns, key, this.#clock()) as RecordRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  async deleteRecord(ns: string, key: string) {
    return (
      this.#q(
        'DELETE FROM lk_records WHERE ns = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)',
      ).run(ns, key, this.#clock()).changes > 0
    );
  }

  async deleteRecords(ns: string, options: { prefix: string }) {
    const upper = prefixUpperBound(options.prefix);
    return this.#q(
      'DELETE FROM lk_records WHERE ns = ? AND key >= ? AND (? IS NULL OR key < ?)',
    ).run(ns, options.prefix, upper ?? null, upper ?? null).changes;
  }
}
