import type { Command } from 'commander';
import { CryptoError } from '../../crypto/errors.js';
import type { KeyKind } from '../../crypto/key-id.js';
import { fail } from '../fail.js';
import { keyFlags, REFRESH_HINT, withKeyLocation } from '../key-location.js';
import { printReport } from '../report.js';

/** `keys migrate`, `keys rotate`, `keys rewrap`: commands that change keys or sealed values. */
export function keysChangeCommands(keys: Command) {
  keyFlags(
    keys
      .command('migrate')
      .description(
        'move the keys to key files (--to file) or the repository (--to repository), safely',
      )
      .requiredOption('--to <storage>', 'file | repository')
      .option('--json', 'print JSON (the report only, no progress lines)'),
  ).action(async (opts: Record<string, string | undefined>) => {
    try {
      const to = opts['to'];
      if (to !== 'file' && to !== 'repository') {
        throw new CryptoError(
          'invalid_request',
          `--to must be file or repository, got ${JSON.stringify(to)}`,
        );
      }
      const { migrateKeys } = await import('../../crypto/migrate.js');
      const json = opts['json'] !== undefined;
      await withKeyLocation(opts, async (loc) => {
        if (!json) process.stdout.write(`migrating keys to ${to} storage (${loc.cryptoDir})\n`);
        // Progress, one line per step (copied, verified, switched, removed).
        const report = await migrateKeys(loc, to, (step) => {
          if (!json) process.stdout.write(`  ${step}\n`);
        });
        printReport(json, report, (r) => {
          let text = r.changed ? '' : `nothing to do: the keys are in ${to} storage already\n`;
          for (const [kind, prints] of Object.entries(r.fingerprints)) {
            text += `${kind} ${prints[0]} (verified)\n`;
          }
          return `${text}storage: ${r.to}\n`;
        });
      });
    } catch (err) {
      fail(err);
    }
  });

  keyFlags(
    keys
      .command('rotate')
      .description('make a new primary master or hmac key; older ones keep opening and verifying')
      .argument('<kind>', 'master | hmac')
      .option('--json', 'print JSON'),
  ).action(async (kind: string, opts: Record<string, string | undefined>) => {
    try {
      if (kind !== 'master' && kind !== 'hmac') {
        throw new CryptoError(
          'invalid_request',
          `rotate takes master or hmac, got ${JSON.stringify(kind)}`,
        );
      }
      const { rotateKey } = await import('../../crypto/rotate.js');
      await withKeyLocation(opts, async (loc) => {
        const r = await rotateKey(loc, kind as KeyKind);
        printReport(
          opts['json'],
          { kind, ...r },
          () =>
            `${kind}: new primary ${r.current} (previous ${r.previous} kept for existing data)\n${REFRESH_HINT}`,
        );
      });
    } catch (err) {
      fail(err);
    }
  });

  keyFlags(
    keys
      .command('rewrap')
      .description(
        're-seal every protected value (AEM legacy ones too) with the primary master key',
      )
      .option('--json', 'print JSON'),
  ).action(async (opts: Record<string, string | undefined>) => {
    try {
      const { rewrap } = await import('../../crypto/rewrap.js');
      await withKeyLocation(opts, async (loc) => {
        const r = await rewrap(loc);
        printReport(
          opts['json'],
          r,
          () =>
            `${r.rewrapped} re-sealed, ${r.current} already current, ${r.failed.length} failed\n${r.failed
              .map((f) => `FAIL ${f.path} ${f.property}: ${f.code}\n`)
              .join('')}`,
        );
        if (r.failed.length > 0) process.exitCode = 1;
      });
    } catch (err) {
      fail(err);
    }
  });
}
