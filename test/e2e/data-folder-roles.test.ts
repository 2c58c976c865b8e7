import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPostgres, freshSchemaUrl } from '../helpers/postgres.js';
import { runCli, startServer } from '../helpers/process.js';

// Data folders know their role (issue 8, point 4). Regression: `keys status` on a publish folder
// created author.sqlite and reported ok; `serve author --data <publish folder>` silently created a
// new author with a new admin. Every refusal is a real CLI process: a stable code on stderr, exit
// status 2, and the folder exactly as it was (names, sizes, modification times).

const root = mkdtempSync(join(tmpdir(), 'lk-roles-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every file and folder under `dir`, files with size and modification time; `missing` if none. */
function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const s = statSync(p);
      // A folder's own time changes when SQLite opens a store (its -wal and -shm files come and
      // go): what counts is that no file appears, vanishes or changes.
      out.push(s.isDirectory() ? `${p}/` : `${p} ${s.size} ${s.mtimeMs}`);
      if (s.isDirectory()) walk(p);
    }
  };
  try {
    walk(dir);
  } catch {
    return 'missing';
  }
  return out.join('\n');
}

const env = { LATCHKEY_ADMIN_PASSWORD: 'roles-admin' };

/** A data folder made by a real server of `role` (started once, then stopped). */
async function folderOf(role: 'author' | 'publish' | 'ims'): Promise<string> {
  const data = join(root, role);
  const server = await startServer(['serve', role, '--port', '0', '--data', data], env);
  await server.stop();
  return data;
}

/** Commands that work on an existing store of `role` (each with the flags it needs). */
function commandsFor(data: string): string[][] {
  const out = join(root, 'never-written.bundle');
  return [
    ['keys', 'status', '--data', data],
    ['keys', 'fingerprint', '--data', data],
    ['keys', 'verify', '--data', data],
    ['keys', 'rotate', 'hmac', '--data', data],
    ['keys', 'rewrap', '--data', data],
    ['keys', 'migrate', '--to', 'repository', '--data', data],
    ['keys', 'export', '--out', out, '--data', data],
    ['protect', 'a secret', '--data', data],
    ['unprotect', '{lk1.0000000000000000.AAAA}', '--data', data],
    ['users', 'logout', 'someone', '--data', data],
    ['credentials', 'create', '--environment', 'p1-e1', '--data', data],
    ['credentials', 'revoke', 'cm-p1-e1-integration', '--data', data],
    ['token', 'dev', '--user', 'someone', '--environment', 'p1-e1', '--data', data],
    ['token', 'list', '--data', data],
    ['ims', 'rotate-signing-key', '--data', data],
    ['ims', 'public-url', '--data', data],
    ['audit', '--data', data],
  ];
}

async function expectRefused(args: string[], code: string, data: string) {
  const before = snapshot(data);
  const r = await runCli(args, env);
  expect(r.stderr, args.join(' ')).toMatch(new RegExp(`^latchkey: ${code}: `));
  expect(r.code, args.join(' ')).toBe(2);
  expect(r.stdout, args.join(' ')).toBe('');
  expect(snapshot(data), args.join(' ')).toBe(before);
  return r;
}

let publish: string;
let ims: string;
let author: string;

beforeAll(async () => {
  [publish, ims, author] = await Promise.all([
    folderOf('publish'),
    folderOf('ims'),
    folderOf('author'),
  ]);
}, 60_000);

describe('a data folder of another role', () => {
  it('keys status on a publish folder says so, names --role publish, and creates no author store', async () => {
    const r = await expectRefused(['keys', 'status', '--data', publish], 'wrong_role', publish);
    expect(r.stderr).toContain('publish store (publish.sqlite)');
    expect(r.stderr).toContain('--role publish');
    const ok = await runCli(['keys', 'status', '--data', publish, '--role', 'publish']);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('every store command refuses a folder of another role and changes nothing', async () => {
    for (const args of commandsFor(publish)) {
      if (args[0] === 'audit') continue; // the audit log is the folder's, whatever its role
      await expectRefused(args, 'wrong_role', publish);
    }
    // Commands of the author or publish role on the IMS's folder.
    for (const args of commandsFor(ims).filter((a) => ['keys', 'protect', 'users'].includes(a[0]!)))
      await expectRefused(args, 'wrong_role', ims);
  }, 60_000);

  it('serve refuses the folder of another role instead of creating a new instance there', async () => {
    for (const [role, data] of [
      ['author', publish],
      ['publish', author],
      ['ims', author],
      ['author', ims],
    ] as const) {
      const r = await expectRefused(
        ['serve', role, '--port', '0', '--data', data],
        'wrong_role',
        data,
      );
      expect(r.stderr).toContain(`latchkey serve `);
    }
  }, 60_000);

  it('start refuses the folder of a single instance (it would add an IMS or an author, with an admin)', async () => {
    for (const data of [publish, ims, author])
      await expectRefused(
        ['start', '--data', data, '--port', '0', '--ims-port', '0'],
        'wrong_role',
        data,
      );
  }, 60_000);

  it("a store file of another role (copied in under this role's name) is refused by its recorded role", async () => {
    const data = join(root, 'renamed');
    mkdirSync(data, { mode: 0o700 });
    writeFileSync(join(data, 'author.sqlite'), readFileSync(join(publish, 'publish.sqlite')), {
      mode: 0o600,
    });
    const r = await expectRefused(['keys', 'status', '--data', data], 'wrong_role', data);
    expect(r.stderr).toContain('is a publish store, not an author one');
  });
});

describe('a data folder that holds no store', () => {
  it('a missing folder: every command says so and creates nothing', async () => {
    const missing = join(root, 'missing');
    for (const args of commandsFor(missing)) {
      const r = await expectRefused(args, 'no_store', missing);
      expect(r.stderr).toContain('does not exist');
    }
  }, 60_000);

  it('a file given as the folder: start, serve and every command say so (exit 2) and leave it alone', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a folder\n');
    const runs = [
      ['start', '--data', file, '--port', '0', '--ims-port', '0'],
      ['serve', 'author', '--data', file, '--port', '0'],
      ['admin', 'reset-password', '--data', file, '--generate'],
      ['credentials', 'list', '--data', file],
      ...commandsFor(file),
    ];
    for (const args of runs) {
      const r = await runCli(args, env);
      expect(r.stderr, args.join(' ')).toBe(
        `latchkey: invalid configuration: data must be a folder, got ${JSON.stringify(file)}, which is a file: choose another with --data\n`,
      );
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
    }
    expect(readFileSync(file, 'utf8')).toBe('not a folder\n');
  }, 60_000);

  it('an empty folder: every command says so and it stays empty', async () => {
    const empty = join(root, 'empty');
    mkdirSync(empty, { mode: 0o700 });
    for (const args of commandsFor(empty)) await expectRefused(args, 'no_store', empty);
    expect(readdirSync(empty)).toEqual([]);
  }, 60_000);

  it('servers create a store only on their first start, in a new or empty folder', async () => {
    const fresh = join(root, 'fresh');
    mkdirSync(fresh, { mode: 0o700 });
    const s = await startServer(['serve', 'publish', '--port', '0', '--data', fresh], env);
    await s.stop();
    expect(readdirSync(fresh)).toContain('publish.sqlite');
    expect(readdirSync(fresh)).not.toContain('author.sqlite');
  });
});

describe('on PostgreSQL', () => {
  let base: string | undefined;
  const schemas: ReturnType<typeof freshSchemaUrl>[] = [];
  beforeAll(async () => {
    base = await findPostgres();
  });
  afterAll(async () => {
    for (const s of schemas) await s.drop();
  });

  const tables = async (schema: string) => {
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    try {
      return (
        await client.query('SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1', [
          schema,
        ])
      ).rows[0].n as number;
    } finally {
      await client.end();
    }
  };

  it('a command on a database without a store says so and creates no tables', async (ctx) => {
    if (!base) return ctx.skip();
    const s = freshSchemaUrl(base);
    schemas.push(s);
    const data = join(root, 'pg-empty');
    for (const args of [
      ['keys', 'status', '--db', s.url, '--data', data],
      ['credentials', 'create', '--environment', 'p1-e1', '--db', s.url, '--data', data],
      ['audit', '--db', s.url, '--data', data],
    ]) {
      const r = await expectRefused(args, 'no_store', data);
      expect(r.stderr).toContain('--db');
    }
    expect(await tables(s.schema)).toBe(0);
  });

  it('a server or command of another role on a shared store is refused by its recorded role', async (ctx) => {
    if (!base) return ctx.skip();
    const s = freshSchemaUrl(base);
    schemas.push(s);
    const a = join(root, 'pg-author');
    const server = await startServer(
      ['serve', 'author', '--port', '0', '--data', a, '--db', s.url],
      env,
    );
    await server.stop();
    const b = join(root, 'pg-ims');
    const r = await expectRefused(
      ['serve', 'ims', '--port', '0', '--data', b, '--db', s.url],
      'wrong_role',
      b,
    );
    expect(r.stderr).toContain('is an author store, not an IMS one');
    await expectRefused(
      ['keys', 'status', '--role', 'publish', '--db', s.url, '--data', a],
      'wrong_role',
      a,
    );
  });
});
