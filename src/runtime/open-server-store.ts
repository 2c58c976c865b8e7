import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../audit/log.js';
import { openServerAuditLog } from '../audit/open.js';
import type { SharedAccounts } from '../auth/throttle.js';
import type { Config } from '../config/load.js';
import { openRoleStore } from '../data-folder/open-role-store.js';
import { secureDataFolder, warnRepairs } from '../fs/secure-folder.js';
import type { LogTarget } from '../http/logger.js';
import { instrumentStore } from '../metrics/instrument-store.js';
import { limitHashing } from '../repository/users/password.js';
import type { Store } from '../store/types.js';

/** How a server (instance or IMS) is started. */
export interface ServerStartOptions {
  logger?: LogTarget;
  listen?: boolean;
  /** The data folder is latchkey start's: the author's and the IMS's stores side by side. */
  quickstart?: boolean;
  /** Whether to create the admin once listening (default); false: the caller does. */
  createAdmin?: boolean;
  /** Per-user throttle counters shared with the other server of the process (latchkey start). */
  accounts?: SharedAccounts;
}

/**
 * What every server opens first: its role's store (a folder or store of another role is refused
 * before anything is written), a private data folder, the bound on concurrent password hashing,
 * and the audit log, whose write failures go to the server's log once `appOf()` has one.
 */
export async function openServerStore(
  config: Config,
  options: ServerStartOptions,
  appOf: () => FastifyInstance | undefined,
): Promise<{ store: Store; auditLog: AuditLog }> {
  const store = instrumentStore(
    await openRoleStore(config, { create: true, quickstart: options.quickstart === true }),
  );
  // The data folder holds the store and the keys: private, whatever it was before.
  warnRepairs(secureDataFolder(config.data));
  limitHashing({
    maxConcurrent: config.security.maxConcurrentHashes,
    maxQueued: config.security.maxQueuedHashes,
  });
  const auditLog = openServerAuditLog(config, store, (err) =>
    appOf()?.log.warn({ err: String(err) }, 'audit log not written'),
  );
  return { store, auditLog };
}
