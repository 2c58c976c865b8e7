import type { FastifyReply, FastifyRequest } from 'fastify';
import { LatchkeyError } from '../errors.js';

/**
 * Bodies come unencoded: a `Content-Encoding` other than `identity` (gzip, br…) answers 415
 * (RFC 9110, 15.5.16) before the body is read, rather than its encoded bytes being taken for a
 * form.
 */
export async function refuseEncodedBody(request: FastifyRequest, _reply: FastifyReply) {
  const encoding = request.headers['content-encoding'];
  if (encoding === undefined || encoding.trim().toLowerCase() === 'identity') return;
  throw new LatchkeyError(
    'unsupported_media_type',
    'Content-Encoding is not supported: send the body unencoded',
    415,
  );
}
