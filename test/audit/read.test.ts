import { type ChildProcess, spawn } from 'node:child_process';
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
import { afterAll, describe, expect, it } from 'vitest';
import { FileSink } from '../../src/audit/file-sink.js';
import { AUDIT_TYPES, type AuditLine } from '../../src/audit/types.js';
import { basicAuth, formBody, http } from '../helpers/http.js';
import { findPostgres, freshSchemaUrl } from '../helpers/postgres.js';
import { CLI, runCli, runNode, startServer } from '../helpers/process.js';

const root = mkdtempSync(join(tmpdir(), 'lk-audit-read-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const line = (time: string, type: string, actor: string, extra: Partial<AuditLine> = {}) =>
  ({
    time,
    type,
    outcome: 'success',
    actor,
    role: 'author',
    instance: 'h:4502',
    ...extra,
  }) as AuditLine;

/** A data folder whose audit log holds exactly these lines (one rotated file, then the current). */
function folder(name: string, rotated: AuditLine[], current: AuditLine[]): string {
  const data = join(root, name);
  mkdirSync(join(data, 'audit'), { recursive: true });
  const text = (ls: AuditLine[]) => ls.map((l) => `${JSON.stringify(l)}\n`).join('');
  writeFileSync(join(data, 'audit', 'audit.log.20260101T000000000Z-1'), text(rotated));
  // A line cut short by a power loss is skipped, not fatal.
  writeFileSync(join(data, 'audit', 'audit.log'), `${text(current)}{"time":"2026-0`);
  return data;
}

const cli = async (...args: string[]) => {
  const r = await runCli(['audit', ...args]);
  return { ...r, lines: r.stdout.split('\n').filter(Boolean) };
};

describe('latchkey audit: filters', () => {
  const data = folder(
    'filters',
    [line('2025-12-31T10:00:00.000Z', 'login', 'alice', { outcome: 'failure' })],
    [
      line('2026-01-02T10:00:00.000Z', 'user.created', 'admin', { target: 'bob' }),
      line('2026-01-03T10:00:00.000Z', 'keys.rotated', 'cli:ops', { details: { kind: 'master' } }),
      line('2026-01-04T10:00:00.000Z', 'login', 'BOB', { address: '10.0.0.7' }),
    ],
  );

  it('prints every line, oldest first, rotated files included, in a readable form', async () => {
    const r = await cli('--data', data);
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines).toEqual([
      '2025-12-31T10:00:00.000Z login failure actor=alice author@h:4502',
      '2026-01-02T10:00:00.000Z user.created success actor=admin target=bob author@h:4502',
      '2026-01-03T10:00:00.000Z keys.rotated success actor=cli:ops author@h:4502 kind=master',
      '2026-01-04T10:00:00.000Z login success actor=BOB from=10.0.0.7 author@h:4502',
    ]);
  });

  it('--user matches actor or target (without case), --type a type or a group, --limit the newest', async () => {
    const times = async (...args: string[]) =>
      (await cli('--json', '--data', data, ...args)).lines.map((l) =>
        (JSON.parse(l) as AuditLine).time.slice(0, 10),
      );
    expect(await times('--user', 'bob')).toEqual(['2026-01-02', '2026-01-04']);
    expect(await times('--type', 'login')).toEqual(['2025-12-31', '2026-01-04']);
    expect(await times('--type', 'keys,user.created')).toEqual(['2026-01-02', '2026-01-03']);
    expect(await times('--since', '2026-01-02', '--until', '2026-01-03T23:00:00Z')).toEqual([
      '2026-01-02',
      '2026-01-03',
    ]);
    expect(await times('--limit', '2')).toEqual(['2026-01-03', '2026-01-04']);
    expect(await times('--since', '1d')).toEqual([]);
  });

  it('bad flags: one-line errors, exit 2 (usage)', async () => {
    const type = await cli('--data', data, '--type', 'logins');
    expect(type.code).toBe(2);
    expect(type.stderr).toMatch(/^latchkey: --type: no event type "logins"; types: login, logout/);
    const since = await cli('--data', data, '--since', 'yesterday');
    expect(since.code).toBe(2);
    expect(since.stderr).toContain('--since takes a date or time');
    const swapped = await cli('--data', data, '--since', '2026-01-03', '--until', '2026-01-02');
    expect(swapped.code).toBe(2);
    expect(swapped.stderr).toBe(
      'latchkey: --until is before --since, so no event can match: swap them\n',
    );
    // A folder that is no data folder at all is a mistaken --data, not an empty log.
    const none = await cli('--data', join(root, 'empty'));
    expect(none).toMatchObject({ code: 2, stdout: '' });
    expect(none.stderr).toMatch(/^latchkey: no_store: .* does not exist: check --data/);
  });
});

/** Lines printed by a running `latchkey audit --follow`, as they come. */
function follow(args: string[]): {
  child: ChildProcess;
  lines: string[];
  next: (n: number) => Promise<void>;
} {
  const child = spawn(process.execPath, [CLI, 'audit', '--follow', '--json', ...args]);
  const lines: string[] = [];
  let buffered = '';
  const waiters: (() => void)[] = [];
  child.stdout!.on('data', (d) => {
    buffered += d;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  const next = async (n: number) => {
    const deadline = Date.now() + 15_000;
    while (lines.length < n) {
      if (Date.now() > deadline) throw new Error(`follow printed ${lines.length} of ${n} lines`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  };
  return { child, lines, next };
}

describe('latchkey audit --follow', () => {
  it('prints new lines as they are written, across a rotation, and stops on Ctrl-C', async () => {
    const data = join(root, 'follow');
    const sink = new FileSink(join(data, 'audit'), { maxFileBytes: 4096, maxFiles: 5 });
    sink.appendSync(line(new Date().toISOString(), 'login', 'before'));
    const f = follow(['--data', data, '--type', 'login']);
    await f.next(1); // what was there: printed first
    // ~230 bytes a line: 60 lines rotate the 4 KB file three times.
    for (let i = 0; i < 60; i++) {
      sink.appendSync(
        line(new Date().toISOString(), i % 2 ? 'login' : 'logout', `u${i}`, {
          details: { pad: 'x'.repeat(100) },
        }),
      );
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 300));
    }
    await f.next(31);
    expect(f.lines.map((l) => JSON.parse(l).actor)).toEqual([
      'before',
      ...Array.from({ length: 30 }, (_, i) => `u${2 * i + 1}`),
    ]);
    expect(readdirSync(join(data, 'audit')).length).toBeGreaterThan(2);
    const exit = new Promise((r) => f.child.on('exit', r));
    f.child.kill('SIGINT');
    expect(await exit).toBe(0);
  });
});

describe('rotation by size with several processes writing one folder', () => {
  it('two processes append 3000 lines each through rotations: every kept line whole, files 0600', async () => {
    const dir = join(root, 'concurrent', 'audit');
    const script = `
      const { FileSink } = await import(${JSON.stringify(new URL('../../dist/audit/file-sink.js', import.meta.url).href)});
      const sink = new FileSink(process.argv[1], { maxFileBytes: 64 * 1024, maxFiles: 1000 });
      for (let i = 0; i < 3000; i++)
        sink.appendSync({ time: new Date().toISOString(), type: 'login', outcome: 'failure',
          actor: process.argv[2] + '-' + i, role: 'author', instance: 'x', details: { pad: 'x'.repeat(100) } });
    `;
    const runs = await Promise.all(
      ['a', 'b'].map((who) => runNode(['--input-type=module', '-e', script, dir, who])),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const files = readdirSync(dir);
    expect(files.length).toBeGreaterThan(5);
    const actors = new Set<string>();
    for (const f of files) {
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
      for (const text of readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean)) {
        actors.add((JSON.parse(text) as AuditLine).actor); // throws on a torn line
      }
    }
    expect(actors.size).toBe(6000);
    const read = await cli('--json', '--data', join(root, 'concurrent'));
    expect(read.lines.length).toBe(6000);
  });
});

const base = await findPostgres();
describe.runIf(base)('on a shared store (PostgreSQL), the audit log is in the store', () => {
  const schema = base ? freshSchemaUrl(base) : undefined;
  afterAll(() => schema?.drop());

  it('two author processes write one log; latchkey audit --db reads and follows it', async () => {
    const env = {
      LATCHKEY_ADMIN_PASSWORD: 'pg-audit-pw',
      LATCHKEY_CRYPTO_KEY_STORAGE: 'repository',
    };
    const servers = await Promise.all(
      ['a', 'b'].map((d) =>
        startServer(
          ['serve', 'author', '--port', '0', '--data', join(root, `pg-${d}`), '--db', schema!.url],
          env,
        ),
      ),
    );
    try {
      const f = follow(['--db', schema!.url, '--type', 'login']);
      await new Promise((r) => setTimeout(r, 1500)); // the follower has read what is there
      for (const [i, s] of servers.entries()) {
        const body = formBody([
          ['j_username', `nobody-${i}`],
          ['j_password', 'wrong'],
        ]);
        expect((await http(`${s.url}/j_security_check`, { method: 'POST', ...body })).status).toBe(
          403,
        );
      }
      const created = await http(`${servers[1]!.url}/libs/granite/security/post/authorizables`, {
        method: 'POST',
        ...formBody([
          ['createUser', ''],
          ['authorizableId', 'carol'],
          ['rep:password', 'carol-pw'],
        ]),
        headers: { ...formBody([]).headers, authorization: basicAuth('admin', 'pg-audit-pw') },
      });
      expect(created.status).toBe(201);
      await f.next(2);
      expect(f.lines.map((l) => JSON.parse(l).actor).sort()).toEqual(['nobody-0', 'nobody-1']);
      f.child.kill('SIGINT');

      const r = await cli('--json', '--db', schema!.url);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.lines.map((l) => JSON.parse(l) as AuditLine);
      const ports = servers.map((s) => `:${new URL(s.url).port}`);
      const logins = lines.filter((l) => l.type === 'login');
      expect(logins.map((l) => ports.findIndex((p) => l.instance.endsWith(p))).sort()).toEqual([
        0, 1,
      ]);
      expect(lines.filter((l) => l.type === 'user.created').map((l) => l.target)).toContain(
        'carol',
      );
      // Nothing under the data folders: the store holds the log.
      for (const d of ['a', 'b']) expect(readdirSync(join(root, `pg-${d}`))).not.toContain('audit');
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  });
});

describe("the README's audit log section", () => {
  it('documents every event type and every flag of latchkey audit', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Audit log'), readme.indexOf('## Development'));
    for (const type of AUDIT_TYPES) expect(section, type).toContain(`\`${type}\``);
    for (const flag of [
      '--since',
      '--until',
      '--user',
      '--type',
      '--limit',
      '--json',
      '--follow',
      '--db',
    ])
      expect(section, flag).toContain(flag);
  });
});
