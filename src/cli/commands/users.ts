import type { Command } from 'commander';
import { fail } from '../fail.js';
import { keyFlags, withKeyLocation } from '../key-location.js';
import { printReport } from '../report.js';

/** `latchkey users logout ID`: ends every session of a user, as an administrator would. */
export function usersCommands(program: Command) {
  const users = program.command('users').description('repository users');
  keyFlags(
    users
      .command('logout')
      .description(
        'end every session of a user: stateful tokens are removed, encapsulated and IMS user tokens issued before now are refused (by running instances on this store within tokens.userCacheMs, 5 s)',
      )
      .argument('<id>', 'the user id')
      .option('--json', 'print JSON'),
  ).action(async (id: string, opts: Record<string, string | undefined>) => {
    try {
      const { createRepositoryContext } = await import('../../repository/context.js');
      const { ADMIN_ID, makeSubject } = await import('../../repository/subject.js');
      const { endSessions } = await import('../../repository/users/sessions.js');
      await withKeyLocation(opts, async ({ store }) => {
        // Whoever can run this command owns the data folder: it acts as the administrator.
        await endSessions(createRepositoryContext(store), makeSubject(ADMIN_ID, []), id);
      });
      printReport(
        opts['json'],
        { sessionsEnded: id },
        () =>
          `sessions of ${id} ended: refused at once by this store, by running instances within tokens.userCacheMs (5 s by default)\n`,
      );
    } catch (err) {
      fail(err);
    }
  });
}
