import type { AuditLine } from './types.js';

/** Where audit lines go: a file under the data folder, or the store when it is shared. */
export interface AuditSink {
  /** Resolves once the line is written. */
  append(line: AuditLine): Promise<void>;
  close(): Promise<void>;
}
