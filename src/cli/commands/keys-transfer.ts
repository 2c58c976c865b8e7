import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CryptoError } from '../../crypto/errors.js';
import { fail } from '../fail.js';
import { keyFlags, REFRESH_HINT, withKeyLocation } from '../key-location.js';
import { printReport } from '../report.js';

/** A text file the user named, or a one-line error saying which and why. */
export function readUserFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CryptoError(
      'invalid_request',
      `cannot read ${what}${file}: ${(err as NodeJS.ErrnoException).code}`,
    );
  }
}

/** The bundle passphrase: `--passphrase-file` (first line) or `LATCHKEY_KEYS_PASSPHRASE`; never a flag value. */
export function passphrase(opts: Record<string, string | undefined>): string | undefined {
  const file = opts['passphraseFile'];
  if (file) {
    const first = readUserFile(file, '--passphrase-file ').split(/\r?\n/)[0] ?? '';
    if (first === '')
      throw new CryptoError('invalid_request', `--passphrase-file ${file} is empty`);
    return first;
  }
  const env = process.env['LATCHKEY_KEYS_PASSPHRASE'];
  return env === undefined || env === '' ? undefined : env;
}

/** `keys export`, `keys import`, `keys import-aem`. */
export function keysTransferCommands(keys: Command) {
  keyFlags(
    keys
      .command('export')
      .description('write both keys (every version) to one integrity-checked bundle')
      .requiredOption('--out <file>', 'bundle file to create (0600)')
      .option(
        '--passphrase-file <file>',
        'seal the bundle with this passphrase (or set LATCHKEY_KEYS_PASSPHRASE)',
      )
      .option('--json', 'print JSON'),
  ).action(async (opts: Record<string, string | undefined>) => {
    try {
      const secret = passphrase(opts);
      const { exportKeys } = await import('../../crypto/export.js');
      await withKeyLocation(opts, async (loc) => {
        const { ids } = await exportKeys(loc, opts['out']!, secret);
        printReport(
          opts['json'],
          { file: opts['out'], keys: ids, sealed: secret !== undefined },
          () =>
            `exported ${ids.length} keys to ${opts['out']}${secret ? ' (sealed with the passphrase)' : ''}\n${
              secret
                ? ''
                : 'the bundle holds the keys in clear: keep it as safe as the keys themselves\n'
            }`,
        );
      });
    } catch (err) {
      fail(err);
    }
  });

  keyFlags(
    keys
      .command('import')
      .description('install a key bundle from keys export; running instances then refresh')
      .argument('<file>', 'bundle file')
      .option(
        '--keep-existing',
        'keep the current keys as older versions (needed when data depends on them)',
      )
      .option(
        '--passphrase-file <file>',
        'passphrase of a sealed bundle (or LATCHKEY_KEYS_PASSPHRASE)',
      )
      .option('--json', 'print JSON'),
  ).action(async (file: string, opts: Record<string, string | undefined>) => {
    try {
      const text = readUserFile(file, '');
      const secret = passphrase(opts);
      const { importKeys } = await import('../../crypto/import.js');
      await withKeyLocation(
        opts,
        async (loc) => {
          const r = await importKeys(loc, text, {
            passphrase: secret,
            keepExisting: opts['keepExisting'] !== undefined,
          });
          printReport(
            opts['json'],
            r,
            () =>
              `imported: master ${r.master}, hmac ${r.hmac}${r.kept ? `; kept ${r.kept} existing keys` : ''}\n${REFRESH_HINT}`,
          );
          // Documented: importing into a new data folder, before its first start, prepares it.
        },
        { create: true },
      );
    } catch (err) {
      fail(err);
    }
  });

  keyFlags(
    keys
      .command('import-aem')
      .description(
        "import AEM's key files: master (16 bytes) opens AEM protected values; hmac becomes the primary hmac key",
      )
      .requiredOption('--master <file>', "AEM's master key file")
      .option('--hmac <file>', "AEM's hmac key file")
      .option('--json', 'print JSON'),
  ).action(async (opts: Record<string, string | undefined>) => {
    try {
      const { importAemKeys } = await import('../../crypto/import-aem.js');
      await withKeyLocation(opts, async (loc) => {
        const r = await importAemKeys(loc, { master: opts['master']!, hmac: opts['hmac'] });
        printReport(
          opts['json'],
          r,
          () =>
            `AEM master key ${r.aemMaster} imported${r.hmac ? `; hmac ${r.hmac} is now primary` : ''}\n${REFRESH_HINT}`,
        );
      });
    } catch (err) {
      fail(err);
    }
  });
}
