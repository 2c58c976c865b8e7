import type { Command } from 'commander';
import { commandAuditScope } from '../audit/open.js';
import { runAudited } from '../audit/record.js';
import { type Config, loadConfig } from '../config/load.js';
import { openRoleStore } from '../data-folder/open-role-store.js';
import type { PublicUrl } from '../ims/public-url.js';
import type { Store } from '../store/types.js';

/** Flags of the commands that work on the IMS's store. */
export function imsFlags(cmd: Command): Command {
  return cmd
    .option('--data <dir>', 'data folder of the IMS (default ./latchkey-data)')
    .option('--db <url>', 'IMS store URL, when not the embedded default')
    .option('--config <file>', 'JSON configuration file');
}

/**
 * Opens the IMS store the flags name, runs `fn` (its security events go to the audit log as the
 * OS user's), always closes the store.
 */
export async function withImsStore<T>(
  opts: Record<string, string | undefined>,
  fn: (store: Store, config: Config) => Promise<T>,
): Promise<T> {
  const config = loadConfig({
    flags: { role: 'ims', data: opts['data'], db: opts['db'] },
    file: opts['config'],
  });
  // An existing IMS store only: another role's folder, or none, is refused and left unchanged.
  const store = await openRoleStore(config, { create: false });
  try {
    return await runAudited(commandAuditScope(config, store), () => fn(store, config));
  } finally {
    await store.close();
  }
}

/**
 * The deployment's public URL (what new credentials and tokens name): the recorded one; on a store
 * that has none, the configured `ims.publicUrl` or the IMS role's default address, recorded now
 * so that the IMS, when it starts, uses the same.
 */
export async function publicUrlOf(store: Store, config: Config): Promise<PublicUrl> {
  const { resolvePublicUrl } = await import('../ims/public-url.js');
  const { baseUrlOf } = await import('../runtime/listen.js');
  return (
    await resolvePublicUrl(
      store,
      config.ims.publicUrl ?? baseUrlOf(config),
      config.ims.publicUrl !== undefined,
    )
  ).publicUrl;
}
