import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from '../config/load.js';
import type { HealthCheck } from '../health/registry.js';
import type { ExchangeDeps } from '../ims/exchange-jwt.js';
import type { SigningKey } from '../ims/signing-keys.js';
import type { Store } from '../store/types.js';
import { sendError } from './errors.js';
import { serverOptions } from './instance-app.js';
import { healthRoutes } from './routes/health.js';
import { type ImsAdminDeps, imsAdminRoutes } from './routes/ims-admin.js';
import { imsEndpoints } from './routes/ims-endpoints.js';

export interface ImsAppOptions {
  readonly config: Config;
  readonly store: Store;
  readonly exchange: ExchangeDeps;
  readonly baseUrl: () => string;
  readonly admin: ImsAdminDeps;
  readonly signingKeys: () => readonly SigningKey[];
  readonly health: readonly HealthCheck[];
  readonly logger?: FastifyServerOptions['logger'];
}

/**
 * The identity service as a Fastify app: `POST /ims/exchange/jwt` (also `/ims/exchange/jwt/` and
 * `/ims/exchange/v1/jwt`; urlencoded or multipart), `GET /ims/keys` (JWKS), `GET /system/health`.
 */
export async function buildImsApp(options: ImsAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...serverOptions(options.config, options.logger),
    frameworkErrors: (err, request, reply) => {
      sendError(err, request, reply);
    },
  });
  app.setErrorHandler((err, request, reply) => sendError(err, request, reply));
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: 'not_found', error_description: `no route for ${request.method}` }),
  );
  await app.register(formbody, { bodyLimit: options.config.http.bodyLimit });
  await app.register(multipart, {
    limits: { fieldSize: 64 * 1024, fields: 20, files: 0, parts: 20 },
  });

  imsEndpoints(app, {
    store: options.store,
    exchange: options.exchange,
    signingKeys: options.signingKeys,
    baseUrl: options.baseUrl,
  });
  imsAdminRoutes(app, options.admin);
  healthRoutes(app, options.health);
  return app;
}
