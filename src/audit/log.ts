import type { AuditSink } from './sink.js';
import type { AuditDetail, AuditEvent, AuditLine, AuditType } from './types.js';

/** Refusals an attacker can repeat at will: one line per minute and key, with a count. */
const COALESCED: ReadonlySet<AuditType> = new Set(['throttle.refused', 'csrf.refused']);
const COALESCE_MS = 60_000;
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
  timer: NodeJS.Timeout;
}

/**
 * One process's audit log: turns events into lines (time, role, instance, address, actor) and
 * hands them to its sink. Repeated refusals (`throttle.refused`, `csrf.refused`) with the same
 * actor, address and details are written once per minute: the first at once, the rest as one
 * line with `count` when the minute is over (or the log closes), so a flood cannot fill the disk.
 */
export class AuditLog {
  readonly sink: AuditSink;
  readonly options: AuditLogOptions;
  readonly #pending = new Map<string, Pending>();

  constructor(sink: AuditSink, options: AuditLogOptions) {
    this.sink = sink;
    this.options = options;
  }

  /** Writes one event; never throws (a failure goes to `onError`). */
  async record(event: AuditEvent, origin: AuditOrigin): Promise<void> {
    const line = this.#line(event, origin);
    if (COALESCED.has(line.type)) {
      const key = JSON.stringify([line.type, line.actor, line.address, line.target, line.details]);
      const pending = this.#pending.get(key);
      if (pending) {
        pending.count++;
        return;
      }
      const timer = setTimeout(() => void this.#flush(key), COALESCE_MS);
      timer.unref();
      this.#pending.set(key, { line, count: 0, timer });
    }
    await this.#write(line);
  }

  /** Writes what repeated refusals are still counted. */
  async close(): Promise<void> {
    await Promise.all([...this.#pending.keys()].map((key) => this.#flush(key)));
    await this.sink.close();
  }

  async #flush(key: string): Promise<void> {
    const pending = this.#pending.get(key);
    if (!pending) return;
    this.#pending.delete(key);
    clearTimeout(pending.timer);
    if (pending.count > 0) {
      await this.#write({ ...pending.line, time: this.#now(), count: pending.count });
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
