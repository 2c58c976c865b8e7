import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/load.js';
import type { Store } from '../store/types.js';
import { FileSink } from './file-sink.js';
import { AuditLog } from './log.js';
import type { AuditSource } from './read.js';
import type { AuditScope } from './record.js';
import type { AuditSink } from './sink.js';
import { StoreSink } from './store-sink.js';

/** The folder of the audit files of a data folder. */
export function auditDirOf(data: string): string {
  return join(data, 'audit');
}

/**
 * Where the audit log of a configuration lives: in the store when it is shared (PostgreSQL),
 * so that every process of a cluster writes one log; else JSON lines under the data folder.
 */
export function auditSinkFor(config: Config, store: Store): AuditSink {
  if (store.backend === 'postgres') {
    return new StoreSink(store, config.audit.retentionDays * 24 * 3600 * 1000);
  }
  return new FileSink(auditDirOf(config.data), {
    maxFileBytes: config.audit.maxFileBytes,
    maxFiles: config.audit.maxFiles,
  });
}

/** Where {@link auditSinkFor} writes, for reading. */
export function auditSourceFor(config: Config, store: Store): AuditSource {
  return store.backend === 'postgres'
    ? { kind: 'store', store }
    : { kind: 'file', dir: auditDirOf(config.data) };
}

/**
 * The audit log of a server process. Its instance is `<host name>:<port>` once it listens
 * (see {@link AuditLog.options}).
 */
export function openServerAuditLog(
  config: Config,
  store: Store,
  onError: (err: unknown) => void,
): AuditLog {
  return new AuditLog(auditSinkFor(config, store), {
    role: config.role,
    // Until it listens (port 0: not known yet).
    instance: config.port === 0 ? hostname() : `${hostname()}:${config.port}`,
    onError,
  });
}

/** The scope of a command run on this machine: acting as `cli:<OS user>`, no address. */
export function commandAuditScope(config: Config, store: Store): AuditScope {
  const log = new AuditLog(auditSinkFor(config, store), {
    role: config.role,
    instance: `${hostname()}:cli`,
    onError: (err) =>
      process.stderr.write(
        `latchkey: warning: audit log not written: ${(err as Error).message ?? err}\n`,
      ),
  });
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = String(process.getuid?.() ?? 'unknown');
  }
  return { log, command: `cli:${user}` };
}
