import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cryptoDirOf, loadKeyring } from '../../src/crypto/load-keyring.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { CLI } from '../helpers/process.js';

const root = mkdtempSync(join(tmpdir(), 'lk-startup-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const trace = fileURLToPath(new URL('../helpers/trace-imports.mjs', import.meta.url));

/** Runs the CLI and returns every module URL it loaded. */
function loaded(args: string[]): { code: number | null; stdout: string; modules: string[] } {
  const file = join(root, `trace-${Math.random().toString(36).slice(2)}.txt`);
  const r = spawnSync(process.execPath, ['--import', trace, CLI, ...args], {
    env: { ...process.env, LATCHKEY_TRACE_IMPORTS: file },
    encoding: 'utf8',
  });
  let modules: string[] = [];
  try {
    modules = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    // nothing loaded through the ESM loader
  }
  return { code: r.status, stdout: r.stdout, modules };
}

// Start-up time is reported by `npm run bench` (cli start-up rows); here only what it depends
// on: the heavy libraries a quick command must not load. Regression: every command file used to
// import its implementation at the top, so `latchkey --help` loaded the HTTP server, both store
// drivers, the JWT and X.509 libraries (0.5-1.6 s).
const HEAVY = [
  '/node_modules/fastify/',
  '/node_modules/pg/',
  '/node_modules/jose/',
  '/node_modules/@peculiar/',
  '/node_modules/pino/',
  '/dist/runtime/',
  '/dist/http/',
];

describe('CLI start-up loads only what the command needs', () => {
  it('latchkey --help loads no server, store driver or JWT library', () => {
    const r = loaded(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: latchkey');
    expect(r.modules.some((m) => m.endsWith('/dist/cli/main.js'))).toBe(true);
    const heavy = r.modules.filter((m) => HEAVY.some((h) => m.includes(h)));
    expect(heavy).toEqual([]);
    expect(r.modules.filter((m) => m.includes('better-sqlite3'))).toEqual([]);
  });

  it('latchkey keys status loads the embedded store only', async () => {
    const data = join(root, 'data');
    const store = new SqliteStore(join(data, 'author.sqlite'));
    try {
      await loadKeyring({ cryptoDir: cryptoDirOf(data), store }, { initialize: 'file' });
    } finally {
      await store.close();
    }
    const r = loaded(['keys', 'status', '--data', data]);
    expect(r.stdout).toContain('storage:');
    const heavy = r.modules.filter((m) => HEAVY.some((h) => m.includes(h)));
    expect(heavy).toEqual([]);
    expect(r.modules.some((m) => m.includes('/dist/store/sqlite/'))).toBe(true);
  });
});
