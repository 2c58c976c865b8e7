import { StoreUnavailableError } from '../../errors.js';

/** Socket errors: nothing listens, the connection broke, the host cannot be reached. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server that is going away or not there yet: class 08 (connection exception),
 * 57P01 admin_shutdown (a fast stop), 57P02 crash_shutdown (an immediate stop, or another
 * backend crashed), 57P03 cannot_connect_now (starting up, shutting down, in recovery), 53300
 * too_many_connections.
 */
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** What the pg driver itself says when the connection is gone or never came. */
const DRIVER_MESSAGES = [
  /^Connection terminated/, // unexpectedly, or due to connection timeout
  /^timeout exceeded when trying to connect$/,
  /is not queryable$/, // a client that broke, or was closed, earlier
];

/** Whether `err` says the PostgreSQL server cannot be reached now (rather than a bad query). */
export function isConnectionFailure(err: unknown): boolean {
  if (err instanceof AggregateError && err.errors.some(isConnectionFailure)) return true;
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code) || SQLSTATES.has(code) || code.startsWith('08')) return true;
  }
  return DRIVER_MESSAGES.some((m) => m.test(err.message));
}

/**
 * The error a store operation throws: a connection failure becomes the one
 * {@link StoreUnavailableError} (`503 store_unavailable` with `Retry-After`), with the driver's
 * error as its cause for the log; anything else is thrown as it came.
 */
export function storeFailure(err: unknown): unknown {
  if (err instanceof StoreUnavailableError) return err;
  return isConnectionFailure(err) ? new StoreUnavailableError({ cause: err }) : err;
}
