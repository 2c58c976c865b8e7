import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorBody } from './errors.js';

/**
 * Requests Node's HTTP parser refuses before any route or hook sees them (a malformed request
 * line, header or chunk, two Content-Length headers, an unknown method, headers over the size
 * limit, a request not received in time), answered in the one error shape, with `nosniff` and
 * `no-store` like every other answer, and the connection closed.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A reset connection has nobody to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, body]: [number, ErrorBody] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, { error: 'request_header_too_large', error_description: 'request headers too large' }]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [
            408,
            { error: 'request_timeout', error_description: 'the request was not received in time' },
          ]
        : [400, { error: 'invalid_request', error_description: 'malformed HTTP request' }];
  if (socket.writable) socket.end(rawResponse(status, body));
  socket.destroy();
}

/** A complete HTTP/1.1 response with a JSON error body, for code that has no reply object. */
export function rawResponse(status: number, body: ErrorBody): string {
  const json = JSON.stringify(body);
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(json)}`,
    'X-Content-Type-Options: nosniff',
    'Cache-Control: no-store',
    'Connection: close',
    '',
    json,
  ].join('\r\n');
}
