import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { Config } from '../config/load.js';
import type { HealthCheck } from '../health/registry.js';
import type { ExchangeDeps } from '../ims/exchange-jwt.js';
import type { SigningKey } from '../ims/signing-keys.js';
import type { Store } from '../store/types.js';
import { createApp } from './create-app.js';
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
  const app = await createApp(options.config, options.logger);
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
