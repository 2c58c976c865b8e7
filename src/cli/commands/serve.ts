import type { Command } from 'commander';
import type { OptionName } from '../../config/defaults.js';
import { loadConfig } from '../../config/load.js';
import { fail } from '../fail.js';
import { guardStart } from '../shutdown.js';

/** Flags every server command shares, mapped to option names. */
export function serverFlags(cmd: Command): Command {
  return cmd
    .option('--data <dir>', 'data folder (default ./latchkey-data)')
    .option('--port <n>', 'TCP port (0 picks a free one)')
    .option('--host <addr>', 'interface to listen on (default 127.0.0.1)')
    .option('--db <url>', 'store URL: sqlite:FILE or postgres://…')
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--config <file>', 'JSON configuration file')
    .option('--ims <url>', 'IMS whose access tokens this instance accepts')
    .option('--ims-ca <file>', "PEM CA certificate(s) to trust for the IMS's HTTPS")
    .option('--environment <id>', 'program and environment of this instance (default p1-e1)')
    .option(
      '--public-url <url>',
      "(ims) the deployment's public URL for a new store; afterwards it must match the recorded one",
    )
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent');
}

export function flagsToOptions(
  opts: Record<string, string | undefined>,
): Partial<Record<OptionName, unknown>> {
  return {
    data: opts['data'],
    port: opts['port'],
    host: opts['host'],
    db: opts['db'],
    'tls.cert': opts['tlsCert'],
    'tls.key': opts['tlsKey'],
    logLevel: opts['logLevel'],
    'ims.url': opts['ims'],
    'ims.ca': opts['imsCa'],
    environment: opts['environment'],
    'ims.publicUrl': opts['publicUrl'],
  };
}

export function printReady(role: string, url: string, generatedPassword: string | undefined) {
  if (generatedPassword) {
    process.stdout.write(
      `admin password (shown once; set LATCHKEY_ADMIN_PASSWORD before the first start to choose it): ${generatedPassword}\n`,
    );
  }
  // Last, so that whoever waits for this line has everything printed before it.
  process.stdout.write(`latchkey ${role} listening on ${url}\n`);
}

export function serveCommand(program: Command) {
  serverFlags(
    program
      .command('serve')
      .description('run one server role: author, publish (content instances) or ims')
      .argument('<role>', 'author | publish | ims'),
  ).action(async (role: string, opts: Record<string, string | undefined>) => {
    // From the first line: Ctrl-C never stops the start between creating the admin and printing
    // its password (the admin is created last, once the server listens).
    const guard = guardStart();
    try {
      const config = loadConfig({ flags: { ...flagsToOptions(opts), role }, file: opts['config'] });
      const { serveRole } = await import('../serve-role.js');
      await serveRole(config, guard);
    } catch (err) {
      guard.release();
      fail(err);
    }
  });
}
