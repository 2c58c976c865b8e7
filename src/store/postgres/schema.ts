/**
 * Schema of the PostgreSQL store. Paths and keys use the "C" collation so that range scans
 * (descendants, key prefixes) compare byte-wise, as SQLite does.
 */
export const POSTGRES_SCHEMA = `
CREATE TABLE IF NOT EXISTS lk_nodes (
  path TEXT COLLATE "C" PRIMARY KEY,
  seq BIGSERIAL NOT NULL,
  parent TEXT COLLATE "C",
  depth INTEGER NOT NULL,
  primary_type TEXT NOT NULL,
  properties TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS lk_nodes_parent ON lk_nodes(parent, seq);
CREATE TABLE IF NOT EXISTS lk_records (
  ns TEXT COLLATE "C" NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  value TEXT NOT NULL,
  expires_at BIGINT,
  PRIMARY KEY (ns, key)
);
CREATE INDEX IF NOT EXISTS lk_records_expiry ON lk_records(expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS lk_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO lk_meta(key, value) VALUES ('schema_version', '1') ON CONFLICT DO NOTHING;
`;
