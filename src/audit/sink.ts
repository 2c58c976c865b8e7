import type { AuditSource } from './read.js';
import type { AuditLine } from './types.js';

/** Where audit lines go: a file under the data folder, or the store when it is shared. */
export interface AuditSink {
  /** Resolves once the line is written. */
  append(line: AuditLine): Promise<void>;
  close(): Promise<void>;
  /** Where the lines can be read back (the System Console's Audit tab reads there). */
  readonly source: AuditSource;
}
