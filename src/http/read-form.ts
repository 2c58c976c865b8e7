import type {} from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { LatchkeyError } from '../errors.js';
import type { FormData } from '../repository/sling-post-form.js';
import { SEND_A_FORM } from './errors.js';

/** A form as a request body: text fields (repeated ones as arrays) and uploaded files (Buffers). */
export type FormBody = Record<string, string | Buffer | (string | Buffer)[]>;

/** 413: a body larger than `http.bodyLimit`, counted over the whole request, every part together. */
export class PayloadTooLargeError extends LatchkeyError {
  override readonly name = 'PayloadTooLargeError';
  constructor(limit: number) {
    // The connection closes: the rest of an oversized body is not worth reading.
    super('payload_too_large', `request body over ${limit} bytes`, 413, { connection: 'close' });
  }
}

/**
 * Reads a multipart body into a {@link FormBody}, holding the whole body, every part together,
 * to the route's body limit (`http.bodyLimit`), as the form parser does for urlencoded bodies:
 * a declared `Content-Length` over it is refused before a byte is read, and a chunked body is
 * counted as it arrives and refused, with no further reading, once it passes the limit. The
 * multipart parser's own limits are per part only (a thousand fields of the limit each would be
 * a thousand times the limit in memory).
 *
 * Limits come with their own 4xx status; the parser's other complaints (no boundary, malformed
 * headers) are the client's fault too, and a truncated or garbled body that yields no part at
 * all is refused rather than acted on.
 */
export async function readMultipart(request: FastifyRequest): Promise<FormBody> {
  const limit = request.routeOptions.bodyLimit ?? request.server.initialConfig.bodyLimit ?? 0;
  const raw = request.raw;
  const declared = Number(raw.headers['content-length']);
  if (declared > limit) throw new PayloadTooLargeError(limit);

  // Count what arrives. Paused first, so that adding the listener does not start the flow before
  // the parser is attached (no byte is lost to it); the parser's pipe resumes the stream.
  let seen = 0;
  let refuse!: (err: Error) => void;
  const overflow = new Promise<never>((_, reject) => {
    refuse = reject;
  });
  overflow.catch(() => {}); // observed through the races below
  const count = (chunk: Buffer) => {
    seen += chunk.length;
    if (seen <= limit) return;
    raw.off('data', count);
    raw.unpipe();
    raw.pause();
    refuse(new PayloadTooLargeError(limit));
  };
  raw.pause();
  raw.on('data', count);

  const body: FormBody = {};
  const add = (name: string, value: string | Buffer) => {
    const had = body[name];
    body[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  };
  let parts = 0;
  try {
    const iterator = request.parts()[Symbol.asyncIterator]();
    for (;;) {
      const next = await Promise.race([iterator.next(), overflow]);
      if (next.done) break;
      const part = next.value;
      parts++;
      if (part.type === 'file')
        add(part.fieldname, await Promise.race([part.toBuffer(), overflow]));
      else add(part.fieldname, String(part.value ?? ''));
    }
  } catch (err) {
    if (typeof (err as { statusCode?: unknown }).statusCode === 'number') throw err;
    if (err instanceof LatchkeyError) throw err;
    throw new LatchkeyError('invalid_request', 'malformed multipart body', 400);
  } finally {
    raw.off('data', count);
  }
  if (parts === 0) {
    throw new LatchkeyError('invalid_request', 'empty or truncated multipart body', 400);
  }
  return body;
}

/**
 * The pre-validation hook of routes whose schema describes a body (create-app.ts attaches it): a
 * multipart body is read before validation, so that the same schema validates it as it validates
 * an urlencoded one (which the form parser has already turned into an object).
 */
export async function multipartBeforeValidation(request: FastifyRequest): Promise<void> {
  if (request.isMultipart()) request.body = await readMultipart(request);
}

function isFormBody(body: unknown): body is FormBody {
  return typeof body === 'object' && body !== null && !Array.isArray(body);
}

/**
 * Reads a POST body as a form, whether urlencoded (`curl -d`) or multipart (`curl -F`, what AEM
 * scripts mostly send). Repeated fields keep every value, in order. An empty body is an empty
 * form; JSON or any other type is refused with 415.
 */
export async function readForm(request: FastifyRequest): Promise<FormData> {
  const fields = new Map<string, string[]>();
  const files = new Map<string, Buffer>();
  let body = request.body;
  if (request.isMultipart()) {
    if (!isFormBody(body)) body = await readMultipart(request);
  } else {
    const type = request.headers['content-type'] ?? '';
    if (body === undefined || body === null || (typeof body === 'string' && body === '')) {
      return { fields, files };
    }
    if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      throw new LatchkeyError('unsupported_media_type', SEND_A_FORM, 415);
    }
  }
  for (const [name, value] of Object.entries(body as FormBody)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (Buffer.isBuffer(v)) files.set(name, v);
      else {
        const list = fields.get(name);
        if (list) list.push(String(v));
        else fields.set(name, [String(v)]);
      }
    }
  }
  return { fields, files };
}

/** Last value of a field, or undefined. */
export function field(form: FormData, name: string): string | undefined {
  const values = form.fields.get(name);
  return values?.[values.length - 1];
}

export function has(form: FormData, name: string): boolean {
  return form.fields.has(name);
}
