import { normalizeAddress } from '../auth/throttle.js';
import type { AuditSink } from './sink.js';
import type { AuditDetail, AuditEvent, AuditLine, AuditType } from './types.js';

/** Refusals an attacker can repeat at will: one line per minute and key, with a count. */
const COALESCED: ReadonlySet<AuditType> = new Set(['throttle.refused', 'csrf.refused']);
const COALESCE_MS = 60_000;
/**
 * Lines of one coalesced type from one address (IPv6: its /64) written at once per minute. The
 * actor, target and details of a refusal are the client's to choose (a made-up user name per
 * guess, a path or an `Origin` per request), so a refusal that differs from the earlier ones in
 * them is still one of the same flood: beyond this many, the rest of the minute's refusals from
 * that address are one line with a count.
 */
const MAX_LINES_PER_ADDRESS = 10;
/**
 * Most (type, address) pairs counted at once, and most lines remembered for their repeats: beyond
 * them (a flood from very many addresses), one count per type for all the others.
 */
const MAX_SOURCES = 10_000;
const MAX_REMEMBERED = 20_000;
/** Longest text kept in a line's fields (user names typed by anyone, paths). */
const MAX_TEXT = 256;

export interface AuditLogOptions {
  /** The role of the process, or of the store a command works on. */
  readonly role: string;
  /** Which process (`<host>:<port>`, `<host>:cli`); servers set it once they listen. */
  instance: string;
  /** Where a failure to write goes (the server log); the operation itself goes on. */
  readonly onError?: (err: unknown) => void;
  readonly clock?: () => number;
}

/** Who acted (decided by the scope, see record.ts) and from where. */
export interface AuditOrigin {
  readonly actor: string | undefined;
  readonly address: string | undefined;
}

interface Pending {
  line: AuditLine;
  count: number;
}

/** One minute of one coalesced type's refusals from one address. */
interface Source {
  readonly timer: NodeJS.Timeout;
  /** Lines written at once (by actor, target and details), with their repeats since. */
  readonly lines: Map<string, Pending>;
  /** Refusals beyond {@link MAX_LINES_PER_ADDRESS} distinct lines: the first one, and how many. */
  folded?: Pending;
}

/**
 * One process's audit log: turns events into lines (time, role, instance, address, actor) and
 * hands them to its sink. Refusals a client can repeat at will (`throttle.refused`,
 * `csrf.refused`) are written once per minute: the first with the same actor, address, target
 * and details at once, its repeats as one line with `count` when the minute is over (or the log
 * closes); and from one address at most {@link MAX_LINES_PER_ADDRESS} such lines of a type a
 * minute, whatever actors, targets and details it makes up, the rest as one line with `count`
 * and `details.folded`. So a flood cannot fill the disk or rotate the real events away.
 */
export class AuditLog {
  readonly sink: AuditSink;
  readonly options: AuditLogOptions;
  /** Coalesced refusals of the current minute, by type and address. */
  readonly #sources = new Map<string, Source>();
  /** How many lines the sources remember (see {@link MAX_REMEMBERED}). */
  #remembered = 0;

  constructor(sink: AuditSink, options: AuditLogOptions) {
    this.sink = sink;
    this.options = options;
  }

  /** Writes one event; never throws (a failure goes to `onError`). */
  async record(event: AuditEvent, origin: AuditOrigin): Promise<void> {
    const line = this.#line(event, origin);
    if (COALESCED.has(line.type) && !this.#coalesce(line)) return;
    await this.#write(line);
  }

  /** Counts a repeatable refusal; whether it is to be written now. */
  #coalesce(line: AuditLine): boolean {
    let sourceKey = `${line.type}\u0000${line.address === undefined ? '' : normalizeAddress(line.address)}`;
    if (!this.#sources.has(sourceKey) && this.#sources.size >= MAX_SOURCES)
      sourceKey = `${line.type}\u0000*`;
    let source = this.#sources.get(sourceKey);
    if (!source) {
      const timer = setTimeout(() => void this.#flush(sourceKey), COALESCE_MS);
      timer.unref();
      source = { timer, lines: new Map() };
      this.#sources.set(sourceKey, source);
    }
    const key = JSON.stringify([line.actor, line.address, line.target, line.details]);
    const pending = source.lines.get(key);
    if (pending) {
      pending.count++;
      return false;
    }
    if (
      source.lines.size < MAX_LINES_PER_ADDRESS &&
      this.#remembered < MAX_REMEMBERED &&
      !sourceKey.endsWith('\u0000*')
    ) {
      source.lines.set(key, { line, count: 0 });
      this.#remembered++;
      return true;
    }
    if (source.folded) source.folded.count++;
    else
      source.folded = { line: { ...line, details: { ...line.details, folded: true } }, count: 1 };
    return false;
  }

  /** Writes what repeated refusals are still counted. */
  async close(): Promise<void> {
    await Promise.all([...this.#sources.keys()].map((key) => this.#flush(key)));
    await this.sink.close();
  }

  async #flush(sourceKey: string): Promise<void> {
    const source = this.#sources.get(sourceKey);
    if (!source) return;
    this.#sources.delete(sourceKey);
    this.#remembered -= source.lines.size;
    clearTimeout(source.timer);
    for (const pending of [...source.lines.values(), ...(source.folded ? [source.folded] : [])]) {
      if (pending.count > 0) {
        await this.#write({ ...pending.line, time: this.#now(), count: pending.count });
      }
    }
  }

  async #write(line: AuditLine): Promise<void> {
    try {
      await this.sink.append(line);
    } catch (err) {
      this.options.onError?.(err);
    }
  }

  #now(): string {
    return new Date((this.options.clock ?? Date.now)()).toISOString();
  }

  #line(event: AuditEvent, origin: AuditOrigin): AuditLine {
    const details: Record<string, AuditDetail> = {};
    for (const [k, v] of Object.entries(event.details ?? {})) {
      if (v === undefined) continue;
      details[k] =
        typeof v === 'string' ? clip(v) : Array.isArray(v) ? v.slice(0, 50).map(clip) : v;
    }
    const actor = origin.actor ?? 'anonymous';
    return {
      time: this.#now(),
      type: event.type,
      outcome: event.outcome ?? 'success',
      actor: clip(actor),
      ...(event.target !== undefined ? { target: clip(event.target) } : {}),
      ...(origin.address !== undefined ? { address: origin.address } : {}),
      role: this.options.role,
      instance: this.options.instance,
      ...(Object.keys(details).length > 0 ? { details } : {}),
    };
  }
}

function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}
