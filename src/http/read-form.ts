import type {} from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { LatchkeyError } from '../errors.js';
import type { FormData } from '../repository/sling-post-form.js';

/** A form as a request body: text fields (repeated ones as arrays) and uploaded files (Buffers). */
export type FormBody = Record<string, string | Buffer | (string | Buffer)[]>;

/**
 * Reads a multipart body into a {@link FormBody}. Limits come with their own 4xx status; the
 * parser's other complaints (no boundary, malformed headers) are the client's fault too, and a
 * truncated or garbled body that yields no part at all is refused rather than acted on.
 */
export async function readMultipart(request: FastifyRequest): Promise<FormBody> {
  const body: FormBody = {};
  const add = (name: string, value: string | Buffer) => {
    const had = body[name];
    body[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  };
  let parts = 0;
  try {
    for await (const part of request.parts()) {
      parts++;
      if (part.type === 'file') add(part.fieldname, await part.toBuffer());
      else add(part.fieldname, String(part.value ?? ''));
    }
  } catch (err) {
    if (typeof (err as { statusCode?: unknown }).statusCode === 'number') throw err;
    throw new LatchkeyError('invalid_request', 'malformed multipart body', 400);
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
      throw new LatchkeyError(
        'unsupported_media_type',
        'send a form (application/x-www-form-urlencoded or multipart/form-data)',
        415,
      );
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
