import { createServer } from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { findPostgres } from '../../../test/helpers/postgres.js';
import { StoreUnavailableError } from '../../errors.js';
import { isConnectionFailure, storeFailure } from './unavailable.js';

const base = await findPostgres();

/** What the driver throws, for real. */
async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

describe('connection failures become StoreUnavailableError; query errors stay as they are', () => {
  it('nothing listening: ECONNREFUSED', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    await new Promise((r) => server.close(r));
    const pool = new pg.Pool({ connectionString: `postgres://x@127.0.0.1:${port}/x` });
    const err = await thrown(() => pool.query('SELECT 1'));
    await pool.end();
    expect(isConnectionFailure(err)).toBe(true);
    const failure = storeFailure(err);
    expect(failure).toBeInstanceOf(StoreUnavailableError);
    expect(failure).toMatchObject({
      code: 'store_unavailable',
      status: 503,
      headers: { 'retry-after': '5' },
      cause: err,
    });
  });

  it('a server that hangs up at once: connection terminated', async () => {
    const server = createServer((socket) => socket.destroy()).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    const pool = new pg.Pool({ connectionString: `postgres://x@127.0.0.1:${port}/x` });
    const err = await thrown(() => pool.query('SELECT 1'));
    await pool.end();
    server.close();
    expect(storeFailure(err)).toBeInstanceOf(StoreUnavailableError);
  });

  it('server-side shutdown codes, whatever the message', () => {
    for (const code of ['57P01', '57P02', '57P03', '08006', '08001', '53300']) {
      expect(isConnectionFailure(Object.assign(new Error('x'), { code })), code).toBe(true);
    }
  });

  it.runIf(base)(
    'a bad query, a constraint or a serialization failure is not an outage',
    async () => {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        const syntax = await thrown(() => client.query('SELEC 1'));
        expect((syntax as { code: string }).code).toBe('42601');
        expect(storeFailure(syntax)).toBe(syntax);
        const division = await thrown(() => client.query('SELECT 1/0'));
        expect(storeFailure(division)).toBe(division);
      } finally {
        await client.end();
      }
      for (const code of ['40001', '40P01', '23505']) {
        expect(isConnectionFailure(Object.assign(new Error('x'), { code })), code).toBe(false);
      }
      expect(
        isConnectionFailure(new TypeError('transaction handle used after its transaction ended')),
      ).toBe(false);
    },
  );
});
