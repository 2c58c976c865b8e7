import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway PostgreSQL cluster of its own (Debian's `postgresql` package: `initdb` in a
 * temporary folder, its own port on 127.0.0.1), for tests that stop and start the server. The
 * machine's shared server is never touched.
 */
export interface PgCluster {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly port: number;
  /** Stops the server: `fast` (clients are told: 57P01) or `immediate` (as a crash). */
  stop(mode?: 'fast' | 'immediate'): void;
  start(): void;
  /** Stops the server and removes its folder. */
  destroy(): void;
}

/** The newest `initdb` of Debian's packages, or undefined. */
function findBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(base, versions[0], 'bin');
}

/**
 * Why a throwaway cluster cannot be made here, or undefined when it can. Under `CI=true` a
 * missing PostgreSQL is an error instead (CI must run these tests).
 */
export function pgClusterUnavailable(): string | undefined {
  const reason = findBin()
    ? undefined
    : "no initdb under /usr/lib/postgresql/*/bin (Debian's postgresql package)";
  if (reason && process.env['CI'] === 'true') throw new Error(`CI=true but ${reason}`);
  return reason;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Creates and starts a cluster. PostgreSQL refuses to run as root, so as root the server runs
 * as the `postgres` user (`runuser`), owning the temporary folder.
 */
export async function startPgCluster(): Promise<PgCluster> {
  const bin = findBin();
  if (!bin) throw new Error('no initdb');
  const root = mkdtempSync(join(tmpdir(), 'lk-pg-'));
  const data = join(root, 'data');
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(root, uid, gid);
    chmodSync(root, 0o700);
  }
  const run = (tool: string, args: string[]) => {
    const [cmd, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]]
      : [join(bin, tool), args];
    const r = spawnSync(cmd, argv, { encoding: 'utf8', cwd: root });
    if (r.status !== 0) {
      throw new Error(`${tool} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
    }
  };
  run('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-instructions',
    '--no-sync', // initdb's own flush: a throwaway cluster needs none
  ]);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${root}`;
  const start = () =>
    run('pg_ctl', ['-D', data, '-l', join(root, 'log'), '-o', options, '-w', 'start']);
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop: (mode = 'fast') => run('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']),
    start,
    destroy: () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // not running
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
