import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthorizedError } from '../../errors.js';
import { registry } from '../../metrics/registry.js';
import { errors } from '../schemas/common.js';

const metricsSchema = {
  summary:
    "The process's metrics in Prometheus's text format (administrators, or an address of metrics.allowFrom)",
  tags: ['metrics'],
  response: {
    200: {
      description: 'Prometheus text exposition format 0.0.4',
      content: { 'text/plain': { schema: { type: 'string' } } },
    },
    ...errors(401, 403),
  },
};

export interface MetricsAccess {
  /** Client addresses that may scrape without credentials (`metrics.allowFrom`). */
  readonly allowFrom: readonly string[];
  /** Whether the request's credentials are an administrator's (throws when they are wrong). */
  readonly isAdministrator: (request: FastifyRequest) => Promise<boolean> | boolean;
  /** Whether the request presented credentials at all (401 without, 403 with a non-admin's). */
  readonly presentedCredentials: (request: FastifyRequest) => boolean;
}

/**
 * `GET <path>`: the process's metrics in Prometheus's text format. Never public: administrators
 * (as everywhere else on the server) or a scraper at an address listed in `metrics.allowFrom`.
 */
export function metricsRoute(app: FastifyInstance, path: string, access: MetricsAccess) {
  const allow = new Set(access.allowFrom);
  app.get(path, { schema: metricsSchema }, async (request, reply) => {
    if (!allow.has(request.ip) && !(await access.isAdministrator(request))) {
      if (!access.presentedCredentials(request))
        throw new UnauthorizedError('administrator credentials required for metrics');
      throw new ForbiddenError('metrics are for administrators');
    }
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
