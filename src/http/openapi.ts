import { createRequire } from 'node:module';
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { ERROR_SCHEMA } from './schemas/common.js';

interface OpenApiDoc {
  paths?: Record<
    string,
    Record<
      string,
      {
        requestBody?: {
          required?: boolean;
          content?: Record<string, { schema?: { required?: unknown } }>;
        };
      }
    >
  >;
}

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/**
 * OpenAPI 3.1 generated from the route schemas (which also validate input and serialize
 * responses). Registered before any route, so that every route is seen; the document is served at
 * `path` (`/ims/openapi.json`, `/system/openapi.json`).
 */
export async function registerOpenApi(
  app: FastifyInstance,
  doc: { title: string; description: string; path: string },
): Promise<void> {
  app.addSchema(ERROR_SCHEMA);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: doc.title, description: doc.description, version },
      components: {
        securitySchemes: {
          basic: { type: 'http', scheme: 'basic' },
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          loginToken: { type: 'apiKey', in: 'cookie', name: 'login-token' },
        },
      },
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json['$id'] === 'string' ? json['$id'] : `def-${i}`,
    },
    // A body whose schema requires no field may be left out (@fastify/swagger marks every body
    // required).
    transformObject: (documentObject) => {
      const doc = (documentObject as { openapiObject: OpenApiDoc }).openapiObject;
      for (const ops of Object.values(doc.paths ?? {}))
        for (const op of Object.values(ops)) {
          const body = op.requestBody;
          if (body?.content && !Object.values(body.content).some((c) => c.schema?.required))
            body.required = false;
        }
      return doc as never;
    },
    // Wildcard routes (`/*`: repository paths) are documented as a `{path}` parameter.
    transform: ({ schema, url }) => ({
      schema: schema as never,
      url: url.endsWith('/*') ? `${url.slice(0, -1)}{path}` : url,
    }),
  });
  app.get(
    doc.path,
    {
      schema: {
        summary: 'This OpenAPI 3.1 document',
        tags: ['meta'],
        response: {
          200: {
            description: 'the OpenAPI document of this server',
            type: 'object',
            additionalProperties: true,
          },
        },
      },
    },
    async () => app.swagger(),
  );
}
