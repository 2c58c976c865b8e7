import type { Command } from 'commander';
import { type Config, loadConfig } from '../config/load.js';
import { NS } from '../ims/model.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';

/** Flags of the commands that work on the IMS's store. */
export function imsFlags(cmd: Command): Command {
  return cmd
    .option('--data <dir>', 'data folder of the IMS (default ./latchkey-data)')
    .option('--db <url>', 'IMS store URL, when not the embedded default')
    .option('--config <file>', 'JSON configuration file');
}

/** Opens the IMS store the flags name, runs `fn`, always closes the store. */
export async function withImsStore<T>(
  opts: Record<string, string | undefined>,
  fn: (store: Store, config: Config) => Promise<T>,
): Promise<T> {
  const config = loadConfig({
    flags: { role: 'ims', data: opts['data'], db: opts['db'] },
    file: opts['config'],
  });
  const store = await openStore(config.db);
  try {
    return await fn(store, config);
  } finally {
    await store.close();
  }
}

/** host[:port] new credentials name: as configured, else where the IMS last listened. */
export async function publicEndpoint(store: Store, config: Config): Promise<string> {
  if (config.ims.publicEndpointSet) return config.ims.publicEndpoint;
  const recorded = (await store.getRecord(NS.meta, 'publicEndpoint'))?.value;
  return typeof recorded === 'string' ? recorded : config.ims.publicEndpoint;
}
