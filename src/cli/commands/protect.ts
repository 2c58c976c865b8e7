import type { Command } from 'commander';
import { fail } from '../fail.js';
import { keyFlags, withKeyLocation } from '../key-location.js';

/** `latchkey protect TEXT` and `latchkey unprotect VALUE` with a data folder's keys. */
export function protectCommands(program: Command) {
  keyFlags(
    program.command('protect').description('seal TEXT with the master key').argument('<text>'),
  ).action(async (text: string, opts: Record<string, string | undefined>) => {
    try {
      const { loadKeyring } = await import('../../crypto/load-keyring.js');
      const { protect } = await import('../../crypto/protect.js');
      await withKeyLocation(opts, async (loc) => {
        process.stdout.write(`${protect(await loadKeyring(loc, { initialize: false }), text)}\n`);
      });
    } catch (err) {
      fail(err);
    }
  });
  keyFlags(
    program
      .command('unprotect')
      .description('open a protected VALUE (latchkey or AEM format)')
      .argument('<value>'),
  ).action(async (value: string, opts: Record<string, string | undefined>) => {
    try {
      const { loadKeyring } = await import('../../crypto/load-keyring.js');
      const { unprotect } = await import('../../crypto/unprotect.js');
      await withKeyLocation(opts, async (loc) => {
        process.stdout.write(
          `${unprotect(await loadKeyring(loc, { initialize: false }), value)}\n`,
        );
      });
    } catch (err) {
      fail(err);
    }
  });
}
