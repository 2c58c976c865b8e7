import type { FastifyInstance } from 'fastify';
import { type HealthCheck, runHealthChecks } from '../../health/registry.js';
import { healthSchema } from '../schemas/health.js';

/**
 * `GET /system/health`: 200 when every check is green or yellow, 503 when one is red (so a load
 * balancer can use it as is). Open to everyone; it reveals no secret.
 */
export function healthRoutes(app: FastifyInstance, checks: readonly HealthCheck[]) {
  app.get('/system/health', { schema: healthSchema }, async (_request, reply) => {
    const report = await runHealthChecks(checks);
    return reply.code(report.status === 'red' ? 503 : 200).send(report);
  });
}
