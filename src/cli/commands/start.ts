import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { fail } from '../fail.js';
import { onShutdown } from '../shutdown.js';
import { printReady } from './serve.js';

/**
 * `latchkey start`: the quick start. One process running an author instance and the IMS on the
 * embedded stores under ./latchkey-data, wired together: the author accepts the IMS's access
 * tokens for environment p1-e1. The admin user is created on the first start.
 */
export function startCommand(program: Command) {
  program
    .command('start')
    .description(
      'run an author instance and the IMS on the embedded store (./latchkey-data); the quick start',
    )
    .option('--data <dir>', 'data folder (default ./latchkey-data)')
    .option('--port <n>', 'author port (default 4502)')
    .option('--ims-port <n>', 'IMS port (default 4510)')
    .option('--config <file>', 'JSON configuration file')
    .action(async (opts: Record<string, string | undefined>) => {
      try {
        const { startIms } = await import('../../runtime/ims.js');
        const { initializeKeys } = await import('../../runtime/initialize-keys.js');
        const { startInstance } = await import('../../runtime/instance.js');
        // One admin password for the author and the IMS: the configured one, or one made here.
        const configured = loadConfig({
          flags: { data: opts['data'] },
          file: opts['config'],
        }).adminPassword;
        const adminPassword = configured ?? randomBytes(18).toString('base64url');
        const imsConfig = loadConfig({
          flags: { role: 'ims', data: opts['data'], port: opts['imsPort'], adminPassword },
          file: opts['config'],
        });
        // On a new data folder, create the keys once, through the author's store, before two
        // stores could race to create them; the IMS then finds and shares them.
        await initializeKeys(
          loadConfig({ flags: { role: 'author', data: opts['data'] }, file: opts['config'] }),
          true,
        );
        const ims = await startIms(imsConfig, { quickstart: true });
        const authorConfig = loadConfig({
          flags: {
            role: 'author',
            data: opts['data'],
            port: opts['port'],
            adminPassword,
            'ims.url': ims.url,
            environment: 'p1-e1',
          },
          file: opts['config'],
        });
        const author = await startInstance(authorConfig, { quickstart: true });
        // Before the ready lines: whoever waits for them may stop the servers at once.
        onShutdown(async () => {
          await author.close();
          await ims.close();
        });
        if (!configured && (author.bootstrap.created || ims.adminCreated)) {
          const who =
            author.bootstrap.created && ims.adminCreated
              ? 'author and IMS'
              : author.bootstrap.created
                ? 'author'
                : 'IMS';
          process.stdout.write(
            `admin password of the ${who} (shown once; set LATCHKEY_ADMIN_PASSWORD before the first start to choose it): ${adminPassword}\n`,
          );
        }
        printReady('ims', ims.url, undefined);
        printReady('author', author.url, undefined);
        process.stdout.write(
          `try: curl -u admin:<password> ${author.url}/content.1.json\n` +
            `     latchkey credentials create --environment p1-e1 --out credentials.json   (data in ${authorConfig.data})\n`,
        );
      } catch (err) {
        fail(err);
      }
    });
}
