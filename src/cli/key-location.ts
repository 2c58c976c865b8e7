import type { Command } from 'commander';
import { commandAuditScope } from '../audit/open.js';
import { runAudited } from '../audit/record.js';
import type { OptionName } from '../config/defaults.js';
import { type Config, loadConfig } from '../config/load.js';
import { cryptoDirOf, type KeyLocation } from '../crypto/load-keyring.js';
import { openRoleStore } from '../data-folder/open-role-store.js';

/** Flags of the commands that work on a data folder's keys. */
export function keyFlags(cmd: Command): Command {
  return cmd
    .option('--data <dir>', 'data folder (default ./latchkey-data)')
    .option('--db <url>', 'store URL, when not the embedded default')
    .option('--role <role>', 'whose store: author (default) or publish')
    .option('--config <file>', 'JSON configuration file');
}

export function keyConfig(opts: Record<string, string | undefined>): Config {
  const flags: Partial<Record<OptionName, unknown>> = {
    data: opts['data'],
    db: opts['db'],
    role: opts['role'],
  };
  return loadConfig({ flags, file: opts['config'] });
}

/**
 * Opens the store of the data folder the flags name, runs `fn` (its security events go to the
 * audit log as the OS user's), always closes the store. A folder or store of another role, or
 * (unless `create`: `keys import` preparing a new data folder) none, is refused before anything
 * is written.
 */
export async function withKeyLocation<T>(
  opts: Record<string, string | undefined>,
  fn: (loc: KeyLocation, config: Config) => Promise<T>,
  options: { create?: boolean } = {},
): Promise<T> {
  const config = keyConfig(opts);
  const store = await openRoleStore(config, { create: options.create === true });
  try {
    return await runAudited(commandAuditScope(config, store), () =>
      fn({ cryptoDir: cryptoDirOf(config.data), store }, config),
    );
  } finally {
    await store.close();
  }
}

/** After a command that changed keys: running instances keep theirs until told. */
export const REFRESH_HINT = 'running instances: POST /system/console/crypto/refresh, or restart\n';
