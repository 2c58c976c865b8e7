import {
  appendFileSync,
  chmodSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import type { AuditSource } from './read.js';
import type { AuditSink } from './sink.js';
import type { AuditLine } from './types.js';

/** The current audit file in an audit folder; rotated ones are `audit.log.<time>-<pid>`. */
export const AUDIT_FILE = 'audit.log';

export interface FileSinkOptions {
  /** Rotate once the current file would grow past this many bytes. */
  readonly maxFileBytes: number;
  /** Rotated files kept; older ones are removed. */
  readonly maxFiles: number;
}

/**
 * JSON lines appended to `<dir>/audit.log` (folder 0700, file 0600), rotated by size.
 *
 * Each line is one `write` on a file opened for appending, so lines from several processes
 * writing the same folder (an IMS and an author started together, a command run beside a
 * server) never mix: the kernel appends each write whole at the end. A line is in the file
 * before the operation it reports answers (it survives a crash of the process; it is not
 * fsynced, so a power loss may lose the last lines). Rotation renames the file to a name no
 * other process can pick (`audit.log.<time>-<pid>`), so two processes rotating at once lose
 * nothing: the second rename finds no file, or a fresh one.
 */
export class FileSink implements AuditSink {
  readonly dir: string;
  readonly #file: string;
  readonly #options: FileSinkOptions;

  constructor(dir: string, options: FileSinkOptions) {
    this.dir = dir;
    this.#file = join(dir, AUDIT_FILE);
    this.#options = options;
  }

  async append(line: AuditLine): Promise<void> {
    this.appendSync(line);
  }

  /** Synchronous: the line is written when this returns. */
  appendSync(line: AuditLine): void {
    const text = `${JSON.stringify(line)}\n`;
    const size = statSync(this.#file, { throwIfNoEntry: false })?.size;
    if (size === undefined) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    } else if (size > 0 && size + Buffer.byteLength(text) > this.#options.maxFileBytes) {
      this.#rotate();
    }
    appendFileSync(this.#file, text, { mode: 0o600 });
    if (size === undefined) chmodSync(this.#file, 0o600); // whatever the umask of the process
  }

  #rotate(): void {
    const stamp = new Date().toISOString().replace(/[-:.]/g, '');
    try {
      renameSync(this.#file, `${this.#file}.${stamp}-${process.pid}`);
    } catch (err) {
      // Another process rotated it first.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const rotated = rotatedFiles(this.dir);
    for (const name of rotated.slice(0, Math.max(0, rotated.length - this.#options.maxFiles))) {
      rmSync(join(this.dir, name), { force: true });
    }
  }

  async close(): Promise<void> {}

  get source(): AuditSource {
    return { kind: 'file', dir: this.dir };
  }
}

/** Rotated audit files of a folder, oldest first. */
export function rotatedFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => /^audit\.log\.\d{8}T\d{9}Z-\d+$/.test(n)).sort();
}
