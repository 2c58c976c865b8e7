import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { startInstance } from '../../src/runtime/instance.js';
import { runCli, startServer } from '../helpers/process.js';

/**
 * A local user reading what latchkey wrote: the store (every password hash; with repository key
 * storage the keys themselves), the key files, exported credentials. The data folder existed
 * before, world-readable (0755), as a folder made by hand or by an older version is.
 */
const root = mkdtempSync(join(tmpdir(), 'lk-modes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;

/** Every file and folder under `dir`, with its mode. */
function modes(dir: string): Map<string, number> {
  const out = new Map<string, number>([[dir, mode(dir)]]);
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    out.set(path, mode(path));
  }
  return out;
}

function expectPrivate(dir: string) {
  for (const [path, m] of modes(dir)) {
    expect(m & 0o077, `${path} is ${m.toString(8)}`).toBe(0);
  }
}

describe('files latchkey writes are readable by its user only', () => {
  it('a pre-existing 0755 data folder: store, -wal, -shm and keys are 0600, folders 0700 (in process, umask 022)', async () => {
    const data = join(root, 'inproc');
    mkdirSync(data, { mode: 0o755 });
    chmodSync(data, 0o755);
    const previous = process.umask(0o022);
    try {
      const config = loadConfig({
        env: {},
        flags: {
          data,
          adminPassword: 'x-password',
          'security.passwordHashCost': 10,
          'crypto.keyStorage': 'repository',
          logLevel: 'silent',
        },
      });
      const instance = await startInstance(config, { listen: false, logger: false });
      try {
        const files = [...modes(data).keys()].map((p) => p.slice(data.length));
        expect(files).toEqual(
          expect.arrayContaining(['/author.sqlite', '/author.sqlite-wal', '/author.sqlite-shm']),
        );
        expectPrivate(data);
      } finally {
        await instance.close();
      }
    } finally {
      process.umask(previous);
    }
  });

  it('latchkey serve warns about and repairs group- or world-readable files it finds', async () => {
    const data = join(root, 'served');
    const first = await startServer(['serve', 'author', '--port', '0', '--data', data], {
      LATCHKEY_ADMIN_PASSWORD: 'x-password',
    });
    await first.stop();
    expectPrivate(data);
    // Someone (a backup restore, an older version, a careless chmod) opens them up.
    chmodSync(data, 0o755);
    chmodSync(join(data, 'author.sqlite'), 0o644);
    chmodSync(join(data, 'crypto', 'master'), 0o644);
    chmodSync(join(data, 'crypto'), 0o755);
    const again = await startServer(['serve', 'author', '--port', '0', '--data', data]);
    await again.stop();
    for (const path of [data, join(data, 'author.sqlite'), join(data, 'crypto', 'master')]) {
      expect(again.stderr()).toContain(`warning: ${path} was accessible to other users`);
    }
    expect(again.stderr()).toContain('(mode 0644); changed to 0600');
    expectPrivate(data);
  });

  it('latchkey start keeps the IMS store and the author store private too', async () => {
    const data = join(root, 'started');
    mkdirSync(data, { mode: 0o755 });
    chmodSync(data, 0o755);
    const server = await startServer(
      ['start', '--data', data, '--port', '0', '--ims-port', '0'],
      { LATCHKEY_ADMIN_PASSWORD: 'x-password' },
      'author',
    );
    try {
      const names = readdirSync(data);
      expect(names).toEqual(expect.arrayContaining(['author.sqlite', 'ims.sqlite']));
      expectPrivate(data);
    } finally {
      await server.stop();
    }
  });

  it('credentials create --out and keys export --out write 0600 files', async () => {
    const data = join(root, 'started');
    const credentials = join(root, 'credentials.json');
    const created = await runCli([
      'credentials',
      'create',
      '--environment',
      'p1-e1',
      '--data',
      data,
      '--out',
      credentials,
    ]);
    expect(created.stderr).toBe('');
    expect(created.stdout).toContain('written to');
    expect(created.stdout).not.toContain('PRIVATE KEY');
    expect(mode(credentials)).toBe(0o600);
    const again = await runCli([
      'credentials',
      'create',
      '--environment',
      'p1-e1',
      '--data',
      data,
      '--out',
      credentials,
    ]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('exists already');
    const bundle = join(root, 'keys.bundle');
    const exported = await runCli(['keys', 'export', '--out', bundle, '--data', data]);
    expect(exported.stderr).toBe('');
    expect(mode(bundle)).toBe(0o600);
  });
});
