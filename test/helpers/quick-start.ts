import { type ChildProcess, spawn } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { http } from './http.js';
import { basic } from './instance.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A fresh folder laid out as a checkout after `npm install && npm run build`: its own
 * package.json, and the built `dist`, `web` and `node_modules` of this checkout (linked). Nothing
 * else: no data folder, no configuration file.
 */
export function freshCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lk-checkout-'));
  copyFileSync(join(REPO, 'package.json'), join(dir, 'package.json'));
  for (const name of ['dist', 'web', 'node_modules'])
    symlinkSync(join(REPO, name), join(dir, name));
  return dir;
}

/** The environment a user's shell has: this one without any LATCHKEY_* variable. */
export function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('LATCHKEY_') && v !== undefined) env[k] = v;
  }
  return { ...env, ...extra };
}

export interface StartedProcess {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit code once the process ended. */
  readonly exited: Promise<number | null>;
  /** Resolves when stdout matches `pattern` (rejects when the process ends first or after `ms`). */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpExecArray>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs `node dist/cli/main.js ARGS` in `cwd` as `npm start` does (`npm start` builds, then runs
 * exactly this), with the user's environment: no LATCHKEY_* variable unless `env` adds one.
 */
export function runInCheckout(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
): StartedProcess {
  const child = spawn(process.execPath, ['dist/cli/main.js', ...args], {
    cwd,
    env: userEnv(env),
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  let closed: { code: number | null } | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      closed = { code };
      resolve(code);
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (pattern, ms = 30_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(out);
          if (!m) return false;
          cleanup();
          resolve(m);
          return true;
        };
        const onData = () => void check();
        const onExit = (code: number | null) => {
          if (check()) return;
          cleanup();
          reject(new Error(`exited with ${code} before ${pattern}:\n${out}\n${err}`));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no ${pattern} within ${ms} ms:\n${out}\n${err}`));
        }, ms);
        const cleanup = () => {
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          child.off('close', onExit);
        };
        child.stdout?.on('data', onData);
        child.on('close', onExit);
        if (closed) onExit(closed.code);
        else check();
      }),
    stop: (signal = 'SIGINT') => {
      if (closed || child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      return exited;
    },
  };
}

/**
 * Runs `latchkey ARGS` (`node dist/cli/main.js`) in `cwd` to completion, as a user in a shell:
 * `input` is piped to its stdin (else stdin is empty).
 */
export async function cliInCheckout(
  cwd: string,
  args: string[],
  options: { input?: string; env?: Record<string, string> } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = runInCheckout(cwd, args, options.env);
  proc.child.stdin?.end(options.input ?? '');
  const code = await proc.exited;
  return { code, stdout: proc.stdout(), stderr: proc.stderr() };
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * `latchkey start ARGS` in `cwd` as a user runs it, until the author listens. When a port is in
 * use (another program of this machine holds 4502 or 4510), does what the error says, as the
 * user would: the flag it names, with a free port. Returns the process and the arguments that
 * worked.
 */
export async function startAsUser(
  cwd: string,
  args: string[] = [],
): Promise<{ proc: StartedProcess; args: string[] }> {
  let current = [...args];
  for (let attempt = 0; ; attempt++) {
    const proc = runInCheckout(cwd, ['start', ...current]);
    try {
      await proc.waitFor(/latchkey author listening on \S+.*\n/, 60_000);
      return { proc, args: current };
    } catch (err) {
      const advice = /is in use .*choose another with (--[\w-]+) N/.exec(proc.stderr());
      if (!advice || attempt === 3) {
        await proc.stop('SIGKILL');
        throw err;
      }
      current = [...current, advice[1]!, String(await freePort())];
    }
  }
}

/** Signs in on the author's login form as a browser does; the user it is signed in as. */
export async function signIn(author: string, user: string, password: string): Promise<string> {
  const body = new URLSearchParams({ j_username: user, j_password: password }).toString();
  const res = await http(`${author}/j_security_check`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  if (res.status !== 200) return `refused ${res.status}`;
  const cookie = String(res.headers['set-cookie']).split(';')[0]!;
  const me = await http(`${author}/libs/granite/security/currentuser.json`, {
    headers: { cookie },
  });
  return (me.json() as { authorizableId: string }).authorizableId;
}

/**
 * Status of an IMS administrator request (listing development tokens); with `ca` (a PEM file),
 * the IMS's certificate must chain to it.
 */
export async function imsAdminStatus(ims: string, password: string, ca?: string): Promise<number> {
  return (
    await http(`${ims}/ims/admin/dev-tokens`, {
      headers: { authorization: basic('admin', password) },
      ...(ca ? { ca: readFileSync(ca) } : {}),
    })
  ).status;
}

/** The admin password line of `latchkey start` (and `admin reset-password --generate`). */
export const PASSWORD = /admin password[^:\n]*: (\S+)/;
/** The URL of `role` in a start's banner. */
export const urlOf = (out: string, role: string) =>
  new RegExp(`latchkey ${role} listening on (\\S+)`).exec(out)![1]!;

const LOCK = join(tmpdir(), 'latchkey-default-ports.lock');

/**
 * Runs `fn` while no other test process of this machine that uses this helper holds the default
 * ports (author 4502, IMS 4510): a test that starts latchkey exactly as the README says cannot
 * choose other ports. The lock is a folder (created atomically) naming its holder's pid; a lock
 * whose holder died is taken over.
 */
export async function withDefaultPorts<T>(fn: () => Promise<T>, waitMs = 180_000): Promise<T> {
  const until = Date.now() + waitMs;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!holderAlive()) {
        rmSync(LOCK, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > until) throw new Error(`the default ports stayed locked (${LOCK})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function holderAlive(): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
  } catch {
    // Being created right now, or left without a pid by a holder that died: give it a moment.
    try {
      return Date.now() - statSync(LOCK).mtimeMs < 5000;
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
