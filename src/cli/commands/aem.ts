import type { Command } from 'commander';
import { fail } from '../fail.js';
import { printReport } from '../report.js';

/** `latchkey aem inspect DIR` and `latchkey aem migrate-keys DIR --master F --hmac F`. */
export function aemCommands(program: Command) {
  const aem = program
    .command('aem')
    .description("look at and repair an AEM install's crypto key storage");
  aem
    .command('inspect')
    .description(
      'find the crypto bundles, read the storage file, fingerprint the key files (changes nothing)',
    )
    .argument('<crx-quickstart>', 'the crx-quickstart folder of a stopped or running AEM')
    .option('--json', 'print JSON')
    .action(async (dir: string, opts: { json?: boolean }) => {
      try {
        const { inspectAem } = await import('../../crypto/aem-legacy/inspect.js');
        const r = inspectAem(dir);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        } else {
          const b = (x: typeof r.supportBundle) => (x ? `bundle ${x.id} (${x.dir})` : 'not found');
          process.stdout.write(`crypto support bundle: ${b(r.supportBundle)}\n`);
          process.stdout.write(`crypto file bundle:    ${b(r.fileBundle)}\n`);
          const s = r.storage;
          process.stdout.write(
            `storage file: ${s.present ? `${JSON.stringify(s.value)}${s.trailingNewline ? ' + trailing newline' : ''}` : 'absent'} (${s.path ?? '-'})\n`,
          );
          for (const k of r.keyFiles)
            process.stdout.write(
              `${k.name.padEnd(7)}${k.bytes} bytes  sha256 ${k.sha256}  ${k.path}\n`,
            );
          process.stdout.write(`in effect: ${r.inEffect}\n`);
          for (const p of r.problems) process.stdout.write(`PROBLEM: ${p}\n`);
        }
        if (r.problems.length > 0) process.exitCode = 1;
      } catch (err) {
        fail(err);
      }
    });
  aem
    .command('migrate-keys')
    .description(
      "the seeds' repair, safely: copy master and hmac to the file bundle, verify, write storage=Bundle",
    )
    .argument('<crx-quickstart>', 'the crx-quickstart folder of a stopped AEM')
    .requiredOption('--master <file>', 'the master key, as downloaded from /etc/key')
    .requiredOption('--hmac <file>', 'the hmac key, as downloaded from /etc/key')
    .option('--json', 'print JSON')
    .action(async (dir: string, opts: { master: string; hmac: string; json?: boolean }) => {
      try {
        const { aemMigrateKeys } = await import('../../crypto/aem-legacy/migrate-keys.js');
        if (!opts.json) process.stdout.write('AEM must be stopped while its keys move.\n');
        const r = aemMigrateKeys(dir, { master: opts.master, hmac: opts.hmac });
        printReport(
          opts.json,
          r,
          () =>
            `${r.copied
              .map(
                (c) =>
                  `${c.name} -> ${c.to} (sha256 ${c.sha256} verified)${c.backup ? `; previous kept as ${c.backup}` : ''}\n`,
              )
              .join(
                '',
              )}storage -> ${r.storage}: Bundle (no newline)\nstart AEM, then remove the master and hmac properties from /etc/key\n`,
        );
      } catch (err) {
        fail(err);
      }
    });
}
