import type { Command } from 'commander';
import { fail } from '../fail.js';
import { printReport } from '../report.js';
import { flagsToOptions, serverFlags } from './serve.js';

/** `latchkey config print` (effective values, secrets hidden) and `config options` (the list). */
export function configCommand(program: Command) {
  const config = program.command('config').description('show configuration');
  serverFlags(
    config
      .command('print')
      .description('print the effective configuration as JSON (secrets hidden)')
      .option('--role <role>', 'author | publish | ims'),
  ).action(async (opts: Record<string, string | undefined>) => {
    try {
      const { describeConfig, loadConfig } = await import('../../config/load.js');
      const loaded = loadConfig({
        flags: { ...flagsToOptions(opts), role: opts['role'] },
        file: opts['config'],
      });
      process.stdout.write(`${JSON.stringify(describeConfig(loaded), null, 2)}\n`);
    } catch (err) {
      fail(err);
    }
  });
  config
    .command('options')
    .description('list every option with its environment variable, default and meaning')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { OPTIONS } = await import('../../config/defaults.js');
      const options = Object.entries(OPTIONS).map(([name, spec]) => ({
        name,
        env: spec.env,
        default: spec.default ?? null,
        doc: spec.doc,
      }));
      printReport(opts.json, { options }, () =>
        options
          .map((o) => {
            const def = o.default === null ? '(none: see below)' : JSON.stringify(o.default);
            return `${o.name}\n  env ${o.env}, default ${def}\n  ${o.doc}\n`;
          })
          .join(''),
      );
    });
}
