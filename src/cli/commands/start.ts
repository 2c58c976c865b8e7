import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { startInstance } from '../../runtime/instance.js';
import { fail } from '../fail.js';
import { onShutdown } from '../shutdown.js';
import { printReady } from './serve.js';

/**
 * `latchkey start`: the quick start. One process running the author instance on the embedded
 * store under ./latchkey-data; the admin user is created on the first start.
 */
export function startCommand(program: Command) {
  program
    .command('start')
    .description('run an author instance on the embedded store (./latchkey-data); the quick start')
    .option('--data <dir>', 'data folder (default ./latchkey-data)')
    .option('--port <n>', 'author port (default 4502)')
    .option('--config <file>', 'JSON configuration file')
    .action(async (opts: Record<string, string | undefined>) => {
      try {
        const config = loadConfig({
          flags: { role: 'author', data: opts['data'], port: opts['port'] },
          file: opts['config'],
        });
        const instance = await startInstance(config);
        printReady('author', instance.url, instance.bootstrap.generatedPassword);
        process.stdout.write(
          `try: curl -u admin:<password> ${instance.url}/content.1.json    (data in ${config.data})\n`,
        );
        onShutdown(() => instance.close());
      } catch (err) {
        fail(err);
      }
    });
}
