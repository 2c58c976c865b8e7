import type { Command } from 'commander';
import { loadKeyring } from '../../crypto/load-keyring.js';
import { protect } from '../../crypto/protect.js';
import { unprotect } from '../../crypto/unprotect.js';
import { fail } from '../fail.js';
import { keyFlags, withKeyLocation } from '../key-location.js';

/** `latchkey protect TEXT` and `latchkey unprotect VALUE` with a data folder's keys. */
export function protectCommands(program: Command) {
  keyFlags(
    program.command('protect').description('seal TEXT with the master key').argument('<text>'),
  ).action(async (text: string, opts: Record<string, string | undefined>) => {
    try {
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
