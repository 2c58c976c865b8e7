import type { Command } from 'commander';
import { fail } from '../fail.js';
import { guardStart } from '../shutdown.js';

/**
 * `latchkey start`: the quick start. One process running an author instance and the IMS on the
 * embedded stores under ./latchkey-data, wired together: the author accepts the IMS's access
 * tokens for environment p1-e1. The IMS speaks HTTPS (the data folder's local CA, or --tls-cert);
 * the author plain HTTP on loopback. The admin user is created on the first start (see
 * ../start/run.ts for the order of the steps).
 */
export function startCommand(program: Command) {
  program
    .command('start')
    .description(
      'run an author instance and the IMS on the embedded store (./latchkey-data); the quick start',
    )
    .option('--data <dir>', 'data folder (default ./latchkey-data)')
    .option('--port <n>', "the author's port (default 4502; 0 picks a free one)")
    .option('--ims-port <n>', "the IMS's port (default 4510; 0 picks a free one)")
    .option('--config <file>', 'JSON configuration file')
    .option('--tls-cert <file>', "the IMS's certificate (PEM) instead of the local CA's")
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .option('--ims-http', "serve the IMS over plain HTTP (Adobe's clients need HTTPS)")
    .option('--author-https', "serve the author over HTTPS too, with the IMS's certificate")
    .option(
      '--log-level <level>',
      'fatal|error|warn|info|debug|trace|silent (default info; readable on a terminal, JSON lines otherwise)',
    )
    .action(async (opts: Record<string, string | undefined>) => {
      // From the first line: Ctrl-C never stops the start between creating the admin and
      // printing its password.
      const guard = guardStart();
      try {
        const { runStart } = await import('../start/run.js');
        await runStart(opts, guard);
      } catch (err) {
        guard.release();
        fail(err);
      }
    });
}
