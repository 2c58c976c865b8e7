import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface Server {
  readonly child: ChildProcess;
  readonly url: string;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** The admin password, if this start printed one. */
  readonly password: string | undefined;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `latchkey ARGS` to completion; `input` is its standard input (empty by default). */
export function runCli(args: string[], env: Record<string, string> = {}, input = '') {
  return runNode([CLI, ...args], env, input);
}

/** Runs `node ARGS` to completion, with `input` on its standard input. */
export function runNode(args: string[], env: Record<string, string> = {}, input = '') {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env } });
    child.stdin.on('error', () => {}); // a command that exits without reading its input
    child.stdin.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts a server process and waits for its "listening on" line (or its death). */
export function startServer(
  args: string[],
  env: Record<string, string> = {},
  role?: string,
): Promise<Server> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: {
      ...process.env,
      LATCHKEY_LOG_LEVEL: 'warn',
      LATCHKEY_SECURITY_PASSWORD_HASH_COST: '10',
      ...env,
    },
  });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start in time: ${out}${err}`)),
      20_000,
    );
    child.stderr?.on('data', (d) => {
      err += d;
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${err}`));
    });
    let started = false;
    child.stdout?.on('data', (d) => {
      out += d;
      // Once only: later output (a log line while stopping) must not run this again, which
      // removed the exit listener stop() waits on.
      if (started) return;
      const m = new RegExp(`latchkey ${role ?? '\\w+'} listening on (\\S+)`).exec(out);
      if (!m || !out.includes('\n', m.index)) return;
      started = true;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      const password = /admin password[^:]*: (\S+)/.exec(out)?.[1];
      resolve({
        child,
        url: m[1]!,
        stdout: () => out,
        stderr: () => err,
        password,
        stop: (signal = 'SIGTERM') =>
          new Promise((done) => {
            if (child.exitCode !== null) return done(child.exitCode);
            child.once('exit', (code) => done(code));
            child.kill(signal);
          }),
      });
    });
  });
}
