import type {} from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { LatchkeyError } from '../errors.js';
import type { FormData } from '../repository/sling-post-form.js';

/**
 * Reads a POST body as a form, whether urlencoded (`curl -d`) or multipart (`curl -F`, what AEM
 * scripts mostly send). Repeated fields keep every value, in order. An empty body is an empty
 * form; JSON or any other type is refused with 415.
 */
export async function readForm(request: FastifyRequest): Promise<FormData> {
  const fields = new Map<string, string[]>();
  const files = new Map<string, Buffer>();
  const add = (name: string, value: string) => {
    const list = fields.get(name);
    if (list) list.push(value);
    else fields.set(name, [value]);
  };
  if (request.isMultipart()) {
    let parts = 0;
    try {
      for await (const part of request.parts()) {
        parts++;
        if (part.type === 'file') files.set(part.fieldname, await part.toBuffer());
        else add(part.fieldname, String(part.value ?? ''));
      }
    } catch (err) {
      // Limits come with their own 4xx status; the parser's other complaints (no boundary,
      // malformed headers) are the client's fault too.
      if (typeof (err as { statusCode?: unknown }).statusCode === 'number') throw err;
      throw new LatchkeyError('invalid_request', 'malformed multipart body', 400);
    }
    // A truncated or garbled body yields no part at all: refuse it rather than act on nothing.
    if (parts === 0) {
      throw new LatchkeyError('invalid_request', 'empty or truncated multipart body', 400);
    }
    return { fields, files };
  }
  const type = request.headers['content-type'] ?? '';
  const body = request.body;
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
  for (const [name, value] of Object.entries(body as Record<string, string | string[]>)) {
    for (const v of Array.isArray(value) ? value : [value]) add(name, v);
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
