/** Schema of the SQLite store. `rowid` gives siblings their creation order. */
export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS lk_nodes (
  path TEXT PRIMARY KEY,
  parent TEXT,
  depth INTEGER NOT NULL,
  primary_type TEXT NOT NULL,
  properties TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS lk_nodes_parent ON lk_nodes(parent);
CREATE TABLE IF NOT EXISTS lk_records (
  ns TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  expires_at INTEGER,
  PRIMARY KEY (ns, key)
);
CREATE INDEX IF NOT EXISTS lk_records_expiry ON lk_records(expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS lk_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  origin TEXT NOT NULL,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS lk_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO lk_meta(key, value) VALUES ('schema_version', '1');
`;
