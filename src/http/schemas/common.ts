/**
 * Schema pieces every route file uses. Route schemas validate input (Fastify rejects what does
 * not match with `400 invalid_request` through the one error mapper), serialize responses (only
 * the properties a response schema names are sent) and make the OpenAPI documents.
 */

type Schema = Record<string, unknown>;

/** The one error body: `{"error","error_description"}`. */
export const ERROR_SCHEMA = {
  $id: 'Error',
  type: 'object',
  description: 'An error: a stable code and a description that never holds a secret.',
  required: ['error', 'error_description'],
  properties: {
    error: { type: 'string', description: 'stable code (invalid_request, invalid_client, …)' },
    error_description: { type: 'string' },
  },
} as const;

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'malformed request or refused input',
  401: 'missing or wrong credentials',
  403: 'not allowed',
  404: 'no such resource',
  405: 'method not allowed',
  409: 'conflict',
  413: 'body too large',
  414: 'path too long',
  415: 'not a form',
  429: 'too many failed attempts (Retry-After)',
  500: 'server fault (details in the log only)',
  503: 'temporarily unavailable (store, or too many password checks at once)',
};

/** Error responses (`{"error","error_description"}`) for the given statuses; 500 is implied. */
export function errors(...statuses: number[]): Record<number, Schema> {
  return Object.fromEntries(
    [...new Set([...statuses, 500])].map((status) => [
      status,
      { description: STATUS_TEXT[status] ?? 'error', $ref: 'Error#' },
    ]),
  );
}

/** A string form field. */
export const text = (description: string, extra: Schema = {}): Schema => ({
  type: 'string',
  description,
  ...extra,
});

/** A form field that may be repeated (one value, or several in order). */
export const repeatable = (description: string): Schema => ({
  description,
  anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
});

/**
 * A form body, urlencoded or multipart: one schema for both (a multipart body is read before
 * validation, see read-form.ts). `files` are fields that may also be uploaded files: any value in
 * multipart.
 */
export function formBody(
  properties: Record<string, Schema>,
  options: { required?: readonly string[]; files?: readonly string[] } = {},
): Schema {
  const schema = (multipart: boolean): Schema => ({
    type: 'object',
    properties: Object.fromEntries(
      Object.entries(properties).map(([name, s]) =>
        multipart && options.files?.includes(name)
          ? [name, { description: s['description'], contentMediaType: 'application/octet-stream' }]
          : [name, s],
      ),
    ),
    ...(options.required?.length ? { required: [...options.required] } : {}),
  });
  return {
    content: {
      'application/x-www-form-urlencoded': { schema: schema(false) },
      'multipart/form-data': { schema: schema(true) },
    },
  };
}

/** A JSON object response with the given properties (only those are sent). */
export function object(
  description: string,
  properties: Record<string, Schema>,
  options: { required?: readonly string[]; additionalProperties?: boolean } = {},
): Schema {
  return {
    description,
    type: 'object',
    properties,
    ...(options.required?.length ? { required: [...options.required] } : {}),
    ...(options.additionalProperties ? { additionalProperties: true } : {}),
  };
}
