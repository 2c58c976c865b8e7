import type { Command } from 'commander';
import { CryptoError } from '../../crypto/errors.js';
import type { KeyKind } from '../../crypto/key-id.js';
import { type MigrationStep, migrateKeys } from '../../crypto/migrate.js';
import { rewrap } from '../../crypto/rewrap.js';
import { rotateKey } from '../../crypto/rotate.js';
import { fail } from '../fail.js';
import { keyFlags, printRefreshHint, withKeyLocation } from '../key-location.js';

/**
 * For the crash tests only: `LATCHKEY_TEST_CRASH_AFTER=<step>` kills this process (SIGKILL, no
 * clean-up) right after that migration step.
 */
function crashHook(step: MigrationStep) {
  process.stdout.write(`  ${step}\n`);
  if (process.env['LATCHKEY_TEST_CRASH_AFTER'] === step) process.kill(process.pid, 'SIGKILL');
}

/** `keys migrate`, `keys rotate`, `keys rewrap`: commands that change keys or sealed values. */
export function keysChangeCommands(keys: Command) {
  keyFlags(
    keys
      .command('migrate')
      .description(
        'move the keys to key files (--to file) or the repository (--to repository), safely',
      )
      .requiredOption('--to <storage>', 'file | repository'),
  ).action(async (opts: Record<string, string | undefined>) => {
    try {
      const to = opts['to'];
      if (to !== 'file' && to !== 'repository') {
        throw new CryptoError(
          'invalid_request',
          `--to must be file or repository, got ${JSON.stringify(to)}`,
        );
      }
      await withKeyLocation(opts, async (loc) => {
        process.stdout.write(`migrating keys to ${to} storage (${loc.cryptoDir})\n`);
        const report = await migrateKeys(loc, to, crashHook);
        if (!report.changed)
          process.stdout.write(`nothing to do: the keys are in ${to} storage already\n`);
        for (const [kind, prints] of Object.entries(report.fingerprints)) {
          process.stdout.write(`${kind} ${prints[0]} (verified)\n`);
        }
        process.stdout.write(`storage: ${report.to}\n`);
      });
    } catch (err) {
      fail(err);
    }
  });

  keyFlags(
    keys
      .command('rotate')
      .description('make a new primary master or hmac key; older ones keep opening and verifying')
      .argument('<kind>', 'master | hmac'),
  ).action(async (kind: string, opts: Record<string, string | undefined>) => {
    try {
      if (kind !== 'master' && kind !== 'hmac') {
        throw new CryptoError(
          'invalid_request',
          `rotate takes master or hmac, got ${JSON.stringify(kind)}`,
        );
      }
      await withKeyLocation(opts, async (loc) => {
        const r = await rotateKey(loc, kind as KeyKind);
        process.stdout.write(
          `${kind}: new primary ${r.current} (previous ${r.previous} kept for existing data)\n`,
        );
        printRefreshHint();
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
      ),
  ).action(async (opts: Record<string, string | undefined>) => {
    try {
      await withKeyLocation(opts, async (loc) => {
        const r = await rewrap(loc);
        process.stdout.write(
          `${r.rewrapped} re-sealed, ${r.current} already current, ${r.failed.length} failed\n`,
        );
        for (const f of r.failed) process.stdout.write(`FAIL ${f.path} ${f.property}: ${f.code}\n`);
        if (r.failed.length > 0) process.exitCode = 1;
      });
    } catch (err) {
      fail(err);
    }
  });
}
