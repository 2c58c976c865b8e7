import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OptionName } from '../../src/config/defaults.js';
import { loadConfig } from '../../src/config/load.js';
import { type RunningInstance, startInstance } from '../../src/runtime/instance.js';

export const ADMIN_PASSWORD = 'admin-test-password';

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
export const ADMIN = basic('admin', ADMIN_PASSWORD);

export interface TestInstance extends RunningInstance {
  readonly data: string;
}

/**
 * An in-process instance on a fresh SQLite store, with a cheap password hash so that tests stay
 * fast. Not listening (use `app.inject`) unless `listen` is set: then on 127.0.0.1 and a free
 * port, at `url`, for tests that speak real HTTP.
 */
export async function testInstance(
  flags: Partial<Record<OptionName, unknown>> = {},
  options: { logLines?: string[]; listen?: boolean } = {},
): Promise<TestInstance> {
  const data = mkdtempSync(join(tmpdir(), 'lk-test-'));
  const config = loadConfig({
    env: {},
    flags: {
      data,
      adminPassword: ADMIN_PASSWORD,
      'security.passwordHashCost': 10,
      logLevel: 'silent',
      ...(options.listen ? { port: 0 } : {}),
      ...flags,
    },
  });
  // With `logLines`, log lines (JSON) are collected there, to check what is and is not logged.
  const lines = options.logLines;
  const logger = lines
    ? { level: 'info', stream: { write: (line: string) => void lines.push(line) } }
    : false;
  const instance = await startInstance(config, { listen: options.listen === true, logger });
  return {
    ...instance,
    data,
    close: async () => {
      await instance.close();
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/** Form body helper: urlencoded from pairs (repeatable names). */
export function form(pairs: [string, string][]): {
  payload: string;
  headers: Record<string, string>;
} {
  return {
    payload: new URLSearchParams(pairs).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  };
}

/** multipart/form-data body, as `curl -F` sends it. */
export function multipart(
  fields: [string, string][],
  files: [string, string, Buffer][] = [],
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----latchkey${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const [name, value] of fields) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
      ),
    );
  }
  for (const [name, filename, data] of files) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      data,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(chunks),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}
