/**
 * Errors that cross a module boundary carry a stable `code` (what a client or script switches on)
 * and the HTTP status they map to. Messages never contain a token, key, password or secret:
 * callers describe *which* input was wrong, never its value when the value may be secret.
 *
 * @example
 * ```ts
 * try { await createUser(ctx, admin, form) } catch (err) {
 *   if (err instanceof LatchkeyError && err.code === 'conflict') { … }
 * }
 * ```
 */
export class LatchkeyError extends Error {
  override readonly name: string = 'LatchkeyError';
  readonly code: string;
  readonly status: number;
  /** Extra response headers (for example `Retry-After`, `WWW-Authenticate`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: string,
    message: string,
    status = 400,
    headers: Record<string, string> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.code = code;
    this.status = status;
    this.headers = headers;
  }
}

/** 400: the request is malformed (bad form field, bad path, bad selector…). */
export class InvalidRequestError extends LatchkeyError {
  override readonly name = 'InvalidRequestError';
  constructor(message: string, code = 'invalid_request') {
    super(code, message, 400);
  }
}

/** 401: no valid credentials. */
export class UnauthorizedError extends LatchkeyError {
  override readonly name = 'UnauthorizedError';
  constructor(message = 'authentication required', challenge = true) {
    super(
      'unauthorized',
      message,
      401,
      challenge ? { 'www-authenticate': 'Basic realm="latchkey"' } : {},
    );
  }
}

/** 403: authenticated, but not allowed. */
export class ForbiddenError extends LatchkeyError {
  override readonly name = 'ForbiddenError';
  constructor(message = 'not allowed') {
    super('forbidden', message, 403);
  }
}

/** 404: no such resource, or one the caller may not read (the two are indistinguishable). */
export class NotFoundError extends LatchkeyError {
  override readonly name = 'NotFoundError';
  constructor(message = 'no such resource') {
    super('not_found', message, 404);
  }
}

/** 409: the resource exists already, or the change conflicts with current state. */
export class ConflictError extends LatchkeyError {
  override readonly name = 'ConflictError';
  constructor(message: string) {
    super('conflict', message, 409);
  }
}

/**
 * A data folder or store is not the one the command needs: it holds no store (`no_store`), or the
 * store of another role (`wrong_role`). Raised before anything is written: nothing was changed.
 */
export class DataFolderError extends LatchkeyError {
  override readonly name = 'DataFolderError';
  constructor(code: 'no_store' | 'wrong_role', message: string) {
    super(code, message, 409);
  }
}

/**
 * A configuration option has a bad value. Not an HTTP error: raised before a server exists.
 * `option` is the option path (`http.bodyLimit`), `source` where the value came from.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'invalid_config';
  readonly option: string;
  constructor(option: string, message: string) {
    super(message);
    this.option = option;
  }
}

/**
 * A server cannot listen: its port is taken. Not an HTTP error: raised before a server runs.
 * The message names the port, whose it is and the flag that chooses another.
 */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  readonly code = 'port_in_use';
  readonly port: number;
  readonly flag: string;
  constructor(port: number, message: string, flag: string, options?: ErrorOptions) {
    super(message, options);
    this.port = port;
    this.flag = flag;
  }
}

/**
 * The store could not be opened (at start, or by a command): a bad location, or nothing answers
 * there. Not an HTTP error: raised before a server exists.
 */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code = 'store_unavailable';
}

/** How long a client is told to wait (`Retry-After`, seconds) while the store is unreachable. */
export const STORE_RETRY_AFTER_S = 5;

/**
 * 503: the store cannot be reached right now (PostgreSQL stopped or restarting, the network to it
 * down). Nothing was done; the request may be sent again after `Retry-After`. The store adapter
 * raises it for every connection failure (see `store/postgres/unavailable.ts`), and the process
 * recovers by itself when the store answers again. The cause (for the log) never holds a password:
 * connection errors name the address only.
 */
export class StoreUnavailableError extends LatchkeyError {
  override readonly name = 'StoreUnavailableError';
  constructor(options?: ErrorOptions) {
    super(
      'store_unavailable',
      'the store cannot be reached; try again shortly',
      503,
      { 'retry-after': String(STORE_RETRY_AFTER_S) },
      options,
    );
  }
}
