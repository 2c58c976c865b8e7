import {
  ConfigError,
  DataFolderError,
  LatchkeyError,
  StoreError,
  StoreUnavailableError,
} from '../errors.js';

/**
 * Prints a one-line reason (and what to do, where known) on stderr and sets a non-zero exit
 * code. Exit 2: bad usage (an argument or flag value that is malformed, an `invalid_request`
 * that is not a 404: the command line was wrong, nothing was attempted) or configuration;
 * 1: anything else. Commander's own usage errors exit 2 too (see main.ts).
 */
export function fail(err: unknown): void {
  const e = err as NodeJS.ErrnoException & { option?: string };
  let message: string;
  let code = 1;
  if (err instanceof DataFolderError) {
    // The wrong --data, --db or --role: a usage error, and scripts switch on the code.
    message = `${err.code}: ${err.message}`;
    code = 2;
  } else if (err instanceof ConfigError) {
    message = `invalid configuration: ${err.message}`;
    code = 2;
  } else if (err instanceof StoreUnavailableError) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    message = `the store cannot be reached${cause}; try again when it is back (check --db / LATCHKEY_DB)`;
  } else if (err instanceof LatchkeyError) {
    message = err.message;
    if (err.code === 'invalid_request' && err.status === 400) code = 2;
  } else if (err instanceof StoreError) {
    message = `${err.message} (check --db / LATCHKEY_DB)`;
  } else if (e?.code === 'EADDRINUSE') {
    message = `${e.message}: the port is in use; choose another with --port`;
  } else if (e?.code === 'EACCES') {
    message = `${e.message}: permission denied`;
  } else {
    message = e?.message ?? String(err);
  }
  process.stderr.write(`latchkey: ${message}\n`);
  process.exitCode = code;
}
