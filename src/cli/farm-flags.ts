import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { LatchkeyError } from '../errors.js';
import type { AdminCredentials } from '../farm/admin-client.js';
import { readSecret } from './read-secret.js';

/** Flags of the commands that call running instances' admin API. */
export function farmFlags(cmd: Command): Command {
  return cmd
    .requiredOption('--to <url...>', 'base URL of each instance (https://host:port)')
    .option('--user <id>', 'an administrator of the instances (default admin)')
    .option(
      '--ca <file>',
      'trust this CA certificate (PEM) for the instances, besides the system ones',
    )
    .option('--json', 'print JSON');
}

/**
 * The instances' administrator credentials: `--user` (default `admin`) and the password from
 * `LATCHKEY_FARM_PASSWORD`, else standard input when piped, else a prompt without echo. Never a
 * flag or URL: those show in the process list. The same credentials serve every instance.
 */
export async function farmCredentials(opts: Record<string, unknown>): Promise<AdminCredentials> {
  const user = typeof opts['user'] === 'string' ? opts['user'] : 'admin';
  let ca: string | undefined;
  if (typeof opts['ca'] === 'string') {
    try {
      ca = readFileSync(opts['ca'], 'utf8');
    } catch (err) {
      throw new LatchkeyError(
        'invalid_request',
        `cannot read --ca ${opts['ca']}: ${(err as NodeJS.ErrnoException).code}`,
        400,
      );
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----'))
      throw new LatchkeyError(
        'invalid_request',
        `--ca ${opts['ca']} holds no PEM certificate`,
        400,
      );
  }
  const env = process.env['LATCHKEY_FARM_PASSWORD'];
  const password =
    env !== undefined && env !== ''
      ? env
      : await readSecret(`password of ${user} on the instances: `);
  return { user, password, ca };
}
