import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { LatchkeyError, StoreUnavailableError } from '../errors.js';
import { clipForLog } from './log-limiter.js';

/** Fastify's own client-error codes, mapped to latchkey's stable codes. */
const FASTIFY_CODES: Readonly<Record<string, string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_request',
  FST_ERR_BAD_URL: 'invalid_path',
  FST_ERR_VALIDATION: 'invalid_request',
  FST_REQ_FILE_TOO_LARGE: 'payload_too_large',
  FST_PARTS_LIMIT: 'payload_too_large',
  FST_FILES_LIMIT: 'payload_too_large',
  FST_FIELDS_LIMIT: 'payload_too_large',
  FST_PROTO_VIOLATION: 'invalid_request',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'unsupported_media_type',
};

/** What a body that is not a form is told, wherever it is refused. */
export const SEND_A_FORM = 'send a form (application/x-www-form-urlencoded or multipart/form-data)';

export interface ErrorBody {
  error: string;
  error_description: string;
}

/**
 * The one place where errors become responses: `{"error","error_description"}` with a stable
 * code. Client errors keep their own message (which never holds a secret: see errors.ts); any
 * other failure is a 500 `server_error` whose details go to the log only.
 */
export function toResponse(err: unknown): {
  status: number;
  headers: Record<string, string>;
  body: ErrorBody;
} {
  if (err instanceof LatchkeyError) {
    return {
      status: err.status,
      headers: { ...err.headers },
      body: { error: err.code, error_description: err.message },
    };
  }
  const fe = err as Partial<FastifyError>;
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code =
      (fe.code && FASTIFY_CODES[fe.code]) ??
      (status === 413 ? 'payload_too_large' : 'invalid_request');
    return {
      status,
      headers: {},
      body: { error: code, error_description: describeClientError(fe) },
    };
  }
  if (status === 503) {
    return {
      status,
      headers: {},
      body: { error: 'temporarily_unavailable', error_description: 'try again later' },
    };
  }
  return {
    status: 500,
    headers: {},
    body: { error: 'server_error', error_description: 'internal server error' },
  };
}

function describeClientError(fe: Partial<FastifyError>): string {
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return 'request body too large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return SEND_A_FORM;
    case 'FST_ERR_BAD_URL':
      return 'malformed URL';
    default:
      // Fastify's client-error messages describe the request's shape, not its content.
      return (fe.message ?? 'bad request').slice(0, 200);
  }
}

export function sendError(
  err: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const { status, headers, body } = toResponse(err);
  if (err instanceof StoreUnavailableError) {
    // An outage, not a fault of this process: one line with the reason, no stack per request.
    const cause = err.cause instanceof Error ? err.cause.message : undefined;
    request.log.warn({ code: body.error, status, cause }, 'store unavailable');
  } else if (status >= 500 && !(err instanceof LatchkeyError)) {
    request.log.error({ err }, 'request failed');
  } else {
    // A refusal is logged with its reason (a LatchkeyError's message never holds a secret, and
    // what a client sent in it is clipped), so that "why was my token refused" has an answer.
    request.log[status >= 500 ? 'warn' : 'info'](
      { code: body.error, status, reason: clipForLog(body.error_description, 512) },
      'request refused',
    );
  }
  // Also for errors raised before any hook ran (a malformed URL): never sniffed, never cached.
  return reply
    .code(status)
    .headers({ 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', ...headers })
    .type('application/json; charset=utf-8')
    .send(body);
}
