import type { Command } from 'commander';
import { fail } from '../fail.js';
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
    .action(async () => {
      const { OPTIONS } = await import('../../config/defaults.js');
      for (const [name, spec] of Object.entries(OPTIONS)) {
        const def = spec.default === undefined ? '(none: see below)' : JSON.stringify(spec.default);
        process.stdout.write(`${name}\n  env ${spec.env}, default ${def}\n  ${spec.doc}\n`);
      }
    });
}
