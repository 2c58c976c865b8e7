import type { Command } from 'commander';
import { fail } from '../fail.js';
import { keyFlags, withKeyLocation } from '../key-location.js';

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
      .description('print each key version: kind, id, SHA-256 (as sha256sum prints it)'),
  ).action(async (opts: Record<string, string | undefined>) => {
    try {
      const { KEY_KINDS } = await import('../../crypto/key-id.js');
      const { loadKeyring } = await import('../../crypto/load-keyring.js');
      await withKeyLocation(opts, async (loc) => {
        const keyring = await loadKeyring(loc, { initialize: false });
        for (const kind of KEY_KINDS) {
          for (const v of keyring[kind].byId.values()) {
            const role = v.id === keyring[kind].primary.id ? 'primary' : 'older';
            process.stdout.write(`${kind} ${v.id} ${role} ${v.fingerprint}\n`);
          }
        }
      });
    } catch (err) {
      fail(err);
    }
  });

  keyFlags(
    keys
      .command('verify')
      .description('check that the keys are complete and every protected value opens'),
  ).action(async (opts: Record<string, string | undefined>) => {
    try {
      const { loadKeyring } = await import('../../crypto/load-keyring.js');
      const { findProtectedValues } = await import('../../crypto/scan.js');
      const { unprotect } = await import('../../crypto/unprotect.js');
      await withKeyLocation(opts, async (loc) => {
        const keyring = await loadKeyring(loc, { initialize: false });
        const found = await findProtectedValues(loc.store);
        let bad = 0;
        for (const o of found) {
          try {
            unprotect(keyring, o.value);
          } catch (err) {
            bad++;
            process.stdout.write(`FAIL ${o.node.path} ${o.property}: ${(err as Error).message}\n`);
          }
        }
        process.stdout.write(
          `${found.length - bad} of ${found.length} protected values open with these keys\n`,
        );
        if (bad > 0) process.exitCode = 1;
      });
    } catch (err) {
      fail(err);
    }
  });
}
