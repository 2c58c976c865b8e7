import type { Command } from 'commander';
import { fail } from '../fail.js';
import { keyFlags, withKeyLocation } from '../key-location.js';
import { printReport } from '../report.js';

/** `keys status`, `keys fingerprint`, `keys verify`: read-only looks at a data folder's keys. */
export function keysInspectCommands(keys: Command) {
  keyFlags(
    keys
      .command('status')
      .description('storage in use, key ids and fingerprints, what the store depends on'),
  )
    .option('--json', 'print JSON')
    .action(async (opts: Record<string, string | undefined>) => {
      try {
        const { keyStatus } = await import('../../crypto/status.js');
        await withKeyLocation(opts, async (loc) => {
          const status = await keyStatus(loc);
          if (opts['json'] !== undefined) {
            process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
          } else {
            process.stdout.write(`storage: ${status.storage} (${loc.cryptoDir})\n`);
            for (const v of status.keys) {
              process.stdout.write(
                `${v.kind.padEnd(7)}${v.primary ? 'primary' : 'older  '}  ${v.id}  sha256 ${v.sha256}\n`,
              );
            }
            process.stdout.write(
              `aem master: ${status.aemMaster ? `imported, sha256 ${status.aemMaster.sha256}` : 'not imported'}\n`,
            );
            for (const m of status.missing)
              process.stdout.write(`MISSING ${m.kind} key ${m.id}: the store depends on it\n`);
            process.stdout.write(
              status.ok ? 'ok: every key the store depends on is present\n' : 'NOT OK\n',
            );
          }
          if (!status.ok) process.exitCode = 1;
        });
      } catch (err) {
        fail(err);
      }
    });

  keyFlags(
    keys
      .command('fingerprint')
      .description('print each key version: kind, id, SHA-256 (as sha256sum prints it)')
      .option('--json', 'print JSON'),
  ).action(async (opts: Record<string, string | undefined>) => {
    try {
      const { KEY_KINDS } = await import('../../crypto/key-id.js');
      const { loadKeyring } = await import('../../crypto/load-keyring.js');
      await withKeyLocation(opts, async (loc) => {
        const keyring = await loadKeyring(loc, { initialize: false });
        const keys = KEY_KINDS.flatMap((kind) =>
          [...keyring[kind].byId.values()].map((v) => ({
            kind,
            id: v.id,
            primary: v.id === keyring[kind].primary.id,
            sha256: v.fingerprint,
          })),
        );
        printReport(opts['json'], { keys }, () =>
          keys
            .map((k) => `${k.kind} ${k.id} ${k.primary ? 'primary' : 'older'} ${k.sha256}\n`)
            .join(''),
        );
      });
    } catch (err) {
      fail(err);
    }
  });

  keyFlags(
    keys
      .command('verify')
      .description('check that the keys are complete and every protected value opens')
      .option('--json', 'print JSON'),
  ).action(async (opts: Record<string, string | undefined>) => {
    try {
      const { loadKeyring } = await import('../../crypto/load-keyring.js');
      const { findProtectedValues } = await import('../../crypto/scan.js');
      const { unprotect } = await import('../../crypto/unprotect.js');
      await withKeyLocation(opts, async (loc) => {
        const keyring = await loadKeyring(loc, { initialize: false });
        const found = await findProtectedValues(loc.store);
        const failed: { path: string; property: string; code: string; message: string }[] = [];
        for (const o of found) {
          try {
            unprotect(keyring, o.value);
          } catch (err) {
            const e = err as Error & { code?: string };
            failed.push({
              path: o.node.path,
              property: o.property,
              code: e.code ?? 'error',
              message: e.message,
            });
          }
        }
        const report = {
          ok: failed.length === 0,
          values: found.length,
          opened: found.length - failed.length,
          failed,
        };
        printReport(
          opts['json'],
          report,
          (r) =>
            `${r.failed.map((f) => `FAIL ${f.path} ${f.property}: ${f.message}\n`).join('')}${r.opened} of ${r.values} protected values open with these keys\n`,
        );
        if (!report.ok) process.exitCode = 1;
      });
    } catch (err) {
      fail(err);
    }
  });
}
