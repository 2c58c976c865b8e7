import { randomBytes } from 'node:crypto';
import type { Json, Store } from '../store/types.js';
import type { AuditSource } from './read.js';
import type { AuditSink } from './sink.js';
import type { AuditLine } from './types.js';

/** Store records `<time>~<random>` → {@link AuditLine}: key order is time order. */
export const AUDIT_NS = 'audit';

/** The record key of a line: its time, then random hex so that lines of one instant differ. */
export function auditKey(line: AuditLine): string {
  return `${line.time}~${randomBytes(6).toString('hex')}`;
}

/**
 * Audit lines in a shared store (PostgreSQL), so that every process of a cluster writes to one
 * log that `latchkey audit --db …` reads whole. Each line is kept `retentionMs`, then expires.
 */
export class StoreSink implements AuditSink {
  readonly store: Store;
  readonly #retentionMs: number;

  constructor(store: Store, retentionMs: number) {
    this.store = store;
    this.#retentionMs = retentionMs;
  }

  async append(line: AuditLine): Promise<void> {
    await this.store.putRecord(AUDIT_NS, auditKey(line), line as unknown as Json, {
      expiresAt: Date.parse(line.time) + this.#retentionMs,
    });
  }

  async close(): Promise<void> {}

  get source(): AuditSource {
    return { kind: 'store', store: this.store };
  }
}
