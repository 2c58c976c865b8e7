import { LatchkeyError } from '../errors.js';
import { type AuditFilter, type AuditSource, readAudit } from './read.js';
import type { AuditLine } from './types.js';

/** One page of an audit log, newest first. */
export interface AuditPage {
  readonly lines: readonly AuditLine[];
  /** Where the next (older) page starts, for `before`; absent on the last page. */
  readonly next?: string;
}

/**
 * Where a page starts: the time (ms) of the oldest line the previous page showed, and how many
 * lines of that very millisecond it showed (lines of one instant are told apart by their order
 * in the log, which reading keeps). Written `<ms>.<count>`.
 */
interface Cursor {
  readonly at: number;
  readonly shown: number;
}

function parseCursor(text: string): Cursor {
  const m = /^(\d{1,15})\.(\d{1,6})$/.exec(text);
  if (!m) throw new LatchkeyError('invalid_request', 'the page link is damaged: start again', 400);
  return { at: Number(m[1]), shown: Number(m[2]) };
}

/**
 * A page of the audit log, newest first: `size` lines that pass `filter`, older than the page
 * `before` names (none: the newest). Reads through {@link readAudit}, as `latchkey audit` does,
 * holding at most one page (and the lines of one instant already shown) in memory.
 *
 * @example
 * ```ts
 * const first = await readAuditPage(source, { types: ['login'] }, { size: 50 });
 * const second = first.next ? await readAuditPage(source, { types: ['login'] }, { size: 50, before: first.next }) : undefined;
 * ```
 */
export async function readAuditPage(
  source: AuditSource,
  filter: AuditFilter,
  options: { size: number; before?: string | undefined },
): Promise<AuditPage> {
  const cursor = options.before ? parseCursor(options.before) : undefined;
  const until =
    cursor === undefined
      ? filter.until
      : Math.min(cursor.at, filter.until ?? Number.POSITIVE_INFINITY);
  const skip = cursor?.shown ?? 0;
  const found = await readAudit(source, { ...filter, until }, { limit: options.size + skip + 1 });
  // Newest first: by time, and within one millisecond the line written last first.
  const ordered = found.reverse().sort((x, y) => Date.parse(y.time) - Date.parse(x.time));
  let rest = ordered;
  if (cursor) {
    let dropped = 0;
    rest = ordered.filter((line) => {
      if (dropped < skip && Date.parse(line.time) === cursor.at) {
        dropped++;
        return false;
      }
      return true;
    });
  }
  const lines = rest.slice(0, options.size);
  if (rest.length <= options.size || lines.length === 0) return { lines };
  const oldest = Date.parse(lines[lines.length - 1]!.time);
  const shown =
    lines.filter((l) => Date.parse(l.time) === oldest).length +
    (cursor && cursor.at === oldest ? skip : 0);
  return { lines, next: `${oldest}.${shown}` };
}
