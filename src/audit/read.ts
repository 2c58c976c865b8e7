import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Store } from '../store/types.js';
import { AUDIT_FILE, rotatedFiles } from './file-sink.js';
import { AUDIT_NS } from './store-sink.js';
import type { AuditLine } from './types.js';

/** Where an audit log is read from: an audit folder (`<data>/audit`) or a shared store. */
export type AuditSource =
  | { readonly kind: 'file'; readonly dir: string }
  | { readonly kind: 'store'; readonly store: Store };

export interface AuditFilter {
  /** From this instant (ms since the epoch), inclusive. */
  readonly since?: number | undefined;
  /** Up to this instant, inclusive. */
  readonly until?: number | undefined;
  /** Lines whose actor or target is this id (user names compared without case). */
  readonly user?: string | undefined;
  /** Types to keep: `keys.rotated` exactly, or `keys` for every `keys.*` type. */
  readonly types?: readonly string[] | undefined;
}

/** Whether a line passes the filter. */
export function matchesFilter(line: AuditLine, filter: AuditFilter): boolean {
  const at = Date.parse(line.time);
  if (filter.since !== undefined && !(at >= filter.since)) return false;
  if (filter.until !== undefined && !(at <= filter.until)) return false;
  if (filter.user !== undefined) {
    const u = filter.user.toLowerCase();
    if (line.actor.toLowerCase() !== u && line.target?.toLowerCase() !== u) return false;
  }
  if (filter.types !== undefined && filter.types.length > 0) {
    if (!filter.types.some((t) => line.type === t || line.type.startsWith(`${t}.`))) return false;
  }
  return true;
}

/** Parses one stored line; `undefined` for anything that is not an audit line. */
function parseLine(text: string): AuditLine | undefined {
  if (text === '') return undefined;
  try {
    const v = JSON.parse(text) as AuditLine;
    return v && typeof v.time === 'string' && typeof v.type === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The lines of an audit log that pass `filter`, oldest first; with `limit`, the newest `limit`
 * of them. Reads rotated files too (skipping those that ended before `since`).
 *
 * @example
 * ```ts
 * const lines = await readAudit({ kind: 'file', dir: auditDirOf(config.data) },
 *   { types: ['login'], since: Date.now() - 3600_000 }, { limit: 100 });
 * ```
 */
export async function readAudit(
  source: AuditSource,
  filter: AuditFilter = {},
  options: { limit?: number } = {},
): Promise<AuditLine[]> {
  const out: AuditLine[] = [];
  const keep = (line: AuditLine) => {
    if (!matchesFilter(line, filter)) return;
    out.push(line);
    // Bounded memory for a large log and a small limit: keep twice the limit, trim in one go.
    if (options.limit !== undefined && out.length >= 2 * Math.max(options.limit, 500)) {
      out.splice(0, out.length - options.limit);
    }
  };
  if (source.kind === 'store') {
    await readStore(source.store, filter, keep);
  } else {
    for (const file of filesOf(source.dir, filter.since)) await readFile(file, keep);
  }
  return options.limit === undefined ? out : out.slice(Math.max(0, out.length - options.limit));
}

/** The audit files of a folder, oldest first, leaving out rotated ones older than `since`. */
function filesOf(dir: string, since: number | undefined): string[] {
  const rotated = rotatedFiles(dir).filter((name) => {
    if (since === undefined) return true;
    // Rotated at <stamp>: every line in it is older.
    const m = /^audit\.log\.(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(name);
    if (!m) return true;
    const at = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!);
    return at >= since;
  });
  return [...rotated, AUDIT_FILE].map((name) => join(dir, name));
}

async function readFile(file: string, keep: (line: AuditLine) => void): Promise<void> {
  let stream: ReturnType<typeof createReadStream>;
  try {
    statSync(file);
    stream = createReadStream(file, { encoding: 'utf8' });
  } catch {
    return; // rotated away, or never written
  }
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const text of lines) {
      const line = parseLine(text);
      if (line) keep(line);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

const PAGE = 1000;

async function readStore(
  store: Store,
  filter: AuditFilter,
  keep: (line: AuditLine) => void,
): Promise<void> {
  // Keys start with the line's time: `since` is where to start.
  let after = filter.since !== undefined ? new Date(filter.since - 1).toISOString() : undefined;
  const untilKey = filter.until !== undefined ? new Date(filter.until + 1).toISOString() : '';
  for (;;) {
    const page = await store.listRecords(AUDIT_NS, { after, limit: PAGE });
    for (const r of page) {
      if (untilKey && r.key > untilKey) return;
      keep(r.value as unknown as AuditLine);
    }
    if (page.length < PAGE) return;
    after = page[page.length - 1]!.key;
  }
}

/**
 * Follows an audit log as `tail -f` does: yields every line written after the call (that passes
 * `filter`) until `signal` aborts. Files are polled, and a rotation is followed; in a store,
 * lines committed late by another process (within `STORE_OVERLAP_MS`) are still found.
 */
export async function* followAudit(
  source: AuditSource,
  filter: AuditFilter,
  options: { signal: AbortSignal; pollMs?: number },
): AsyncGenerator<AuditLine> {
  const pollMs = options.pollMs ?? 250;
  const waitOrStop = async () => {
    try {
      await sleep(pollMs, undefined, { signal: options.signal });
    } catch {
      // aborted
    }
  };
  if (source.kind === 'store') {
    yield* followStore(source.store, filter, options.signal, waitOrStop);
    return;
  }
  const file = join(source.dir, AUDIT_FILE);
  let ino = statSync(file, { throwIfNoEntry: false })?.ino;
  let offset = statSync(file, { throwIfNoEntry: false })?.size ?? 0;
  let partial = '';
  while (!options.signal.aborted) {
    const stat = statSync(file, { throwIfNoEntry: false });
    const lines: string[] = [];
    if (ino !== undefined && stat?.ino !== ino) {
      // Rotated: finish the old file (now under a rotated name), then start the new one.
      const old = rotatedFiles(source.dir)
        .map((n) => join(source.dir, n))
        .find((p) => statSync(p, { throwIfNoEntry: false })?.ino === ino);
      if (old) lines.push(...readFrom(old, offset, (p) => (partial = p), partial));
      partial = '';
      offset = 0;
      ino = stat?.ino;
    }
    if (stat && ino === undefined) ino = stat.ino;
    if (stat && stat.size > offset) {
      lines.push(...readFrom(file, offset, (p) => (partial = p), partial));
      offset = stat.size;
    }
    for (const text of lines) {
      const line = parseLine(text);
      if (line && matchesFilter(line, filter)) yield line;
    }
    await waitOrStop();
  }
}

/** Complete lines of `file` from `offset`; an unfinished last line is handed to `setPartial`. */
function readFrom(
  file: string,
  offset: number,
  setPartial: (rest: string) => void,
  partial: string,
): string[] {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = statSync(file).size;
    if (size <= offset) return [];
    const buffer = Buffer.alloc(size - offset);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, offset + read);
      if (n === 0) break;
      read += n;
    }
    const text = partial + buffer.subarray(0, read).toString('utf8');
    const parts = text.split('\n');
    setPartial(parts.pop() ?? '');
    return parts;
  } finally {
    closeSync(fd);
  }
}

/** How late a line may be committed after a later one and still be followed. */
const STORE_OVERLAP_MS = 10_000;

async function* followStore(
  store: Store,
  filter: AuditFilter,
  signal: AbortSignal,
  wait: () => Promise<void>,
): AsyncGenerator<AuditLine> {
  const seen = new Map<string, number>(); // key → the line's time
  let horizon = Date.now();
  let first = true; // the first pass only learns what was there before the call
  while (!signal.aborted) {
    let after = new Date(horizon - STORE_OVERLAP_MS).toISOString();
    for (;;) {
      const page = await store.listRecords(AUDIT_NS, { after, limit: PAGE });
      for (const r of page) {
        if (seen.has(r.key)) continue;
        const line = r.value as unknown as AuditLine;
        seen.set(r.key, Date.parse(line.time));
        if (!first && matchesFilter(line, filter)) yield line;
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.key;
    }
    first = false;
    horizon = Date.now();
    for (const [key, at] of seen) if (!(at >= horizon - 2 * STORE_OVERLAP_MS)) seen.delete(key);
    await wait();
  }
}
