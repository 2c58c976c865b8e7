import type { Command } from 'commander';
import { fail } from '../fail.js';
import { farmFlags } from '../farm-flags.js';
import { keyFlags } from '../key-location.js';

/**
 * `latchkey keys push --to URL…` (keys to running instances) and `latchkey farm rotate-hmac
 * --to URL…` (a new hmac key for a whole farm, nobody logged out), over the instances' admin API.
 */
export function farmCommands(program: Command, keys: Command) {
  farmFlags(
    keyFlags(
      keys
        .command('push')
        .description(
          "send this data folder's keys (or --bundle FILE) to running instances over their admin API; each verifies the bundle, keeps its own keys as older versions and reloads without a restart",
        )
        .option(
          '--bundle <file>',
          'push this bundle (keys export) instead of the data folder’s keys',
        )
        .option(
          '--passphrase-file <file>',
          'passphrase of a sealed --bundle (or LATCHKEY_KEYS_PASSPHRASE)',
        ),
    ),
  ).action(async (opts: Record<string, unknown>) => {
    try {
      const { pushCommand } = await import('../farm/push.js');
      await pushCommand(opts);
    } catch (err) {
      fail(err);
    }
  });

  const farm = program
    .command('farm')
    .description('operations on every instance of a farm at once, over their admin API');
  farmFlags(
    farm
      .command('rotate-hmac')
      .description(
        'a new hmac key on every instance without logging anyone out: distributed as verify-only first, then activated for signing; older keys keep verifying their tokens until they expire',
      )
      .option(
        '--activate <id>',
        'only activate this key, distributed before (after a run that stopped in its second phase)',
      ),
  ).action(async (opts: Record<string, unknown>) => {
    try {
      const { rotateHmacCommand } = await import('../farm/rotate-hmac.js');
      await rotateHmacCommand(opts);
    } catch (err) {
      fail(err);
    }
  });
}
