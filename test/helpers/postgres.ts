import { randomBytes } from 'node:crypto';
import pg from 'pg';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';

/**
 * The PostgreSQL server tests use (`LATCHKEY_TEST_PG_URL`, default the machine's local server).
 * Resolves to `undefined` when none answers, so suites can skip with a printed reason; under
 * `CI=true` a missing server is an error instead, because CI must run these tests.
 */
export async function findPostgres(): Promise<string | undefined> {
  const url = process.env['LATCHKEY_TEST_PG_URL'] ?? DEFAULT_URL;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return url;
  } catch (err) {
    if (process.env['CI'] === 'true') {
      throw new Error(`CI=true but no PostgreSQL answers at ${url}: ${(err as Error).message}`);
    }
    console.warn(`skipping PostgreSQL tests: no server at ${url} (${(err as Error).message})`);
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A store URL on a fresh schema, and a function that drops it. */
export function freshSchemaUrl(base: string): {
  url: string;
  schema: string;
  drop: () => Promise<void>;
} {
  const schema = `lk_test_${randomBytes(6).toString('hex')}`;
  const url = new URL(base);
  url.searchParams.set('schema', schema);
  return {
    url: url.href,
    schema,
    drop: async () => {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}
