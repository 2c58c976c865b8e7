import type { Command } from 'commander';
import { fail } from '../fail.js';

/** `latchkey admin reset-password`: recovers the admin of a stopped data folder. */
export function adminCommands(program: Command) {
  const admin = program.command('admin').description('the admin user of a data folder');
  admin
    .command('reset-password')
    .description(
      "set a new password for admin on a stopped data folder (every role it holds, or --role's) and end admin's sessions: typed at the prompt, read from stdin when piped, or generated and printed with --generate",
    )
    .option('--data <dir>', 'data folder (default ./latchkey-data)')
    .option('--role <role>', 'only this role: author, publish or ims')
    .option('--db <url>', 'store URL, when not the embedded default (with --role)')
    .option('--config <file>', 'JSON configuration file')
    .option('--generate', 'generate the password and print it')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      try {
        const { resetAdminPassword } = await import('../admin/reset-password.js');
        await resetAdminPassword(opts);
      } catch (err) {
        fail(err);
      }
    });
}
