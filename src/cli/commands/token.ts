import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { cryptoDirOf, loadKeyring } from '../../crypto/load-keyring.js';
import { bootstrapIms } from '../../ims/bootstrap.js';
import { devToken } from '../../ims/dev-token.js';
import { NS } from '../../ims/model.js';
import { loadSigningKeys } from '../../ims/signing-keys.js';
import { openStore } from '../../store/open.js';
import { fail } from '../fail.js';

/** `latchkey token dev --user ID --environment p1-e1`: a local development token. */
export function tokenCommands(program: Command) {
  const token = program.command('token').description('access tokens for development');
  token
    .command('dev')
    .description(
      "print a local development token for an IMS user, as the Developer Console's JSON (valid 24 h)",
    )
    .requiredOption('--user <id>', 'the user (the same id must exist on the instances)')
    .requiredOption('--environment <id>', 'program and environment, e.g. p1-e1')
    .option('--data <dir>', 'data folder of the IMS (default ./latchkey-data)')
    .option('--db <url>', 'IMS store URL, when not the embedded default')
    .option('--config <file>', 'JSON configuration file')
    .action(async (opts: Record<string, string | undefined>) => {
      try {
        const config = loadConfig({
          flags: { role: 'ims', data: opts['data'], db: opts['db'] },
          file: opts['config'],
        });
        const store = await openStore(config.db);
        try {
          const keyring = await loadKeyring(
            { cryptoDir: cryptoDirOf(config.data), store },
            { initialize: false },
          );
          await bootstrapIms(store);
          const [key] = (
            await loadSigningKeys(store, keyring, config.ims.accessTokenAlgorithm)
          ).filter((k) => k.alg === config.ims.accessTokenAlgorithm);
          const recorded = (await store.getRecord(NS.meta, 'publicEndpoint'))?.value;
          const endpoint =
            !config.ims.publicEndpointSet && typeof recorded === 'string'
              ? recorded
              : config.ims.publicEndpoint;
          const json = await devToken(store, key!, {
            userId: opts['user']!,
            environment: opts['environment']!,
            issuer: `${config.tls ? 'https' : 'http'}://${endpoint}/ims`,
          });
          process.stdout.write(`${JSON.stringify(json)}\n`);
        } finally {
          await store.close();
        }
      } catch (err) {
        fail(err);
      }
    });
}
