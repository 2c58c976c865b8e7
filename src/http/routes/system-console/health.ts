import type { FastifyInstance } from 'fastify';
import { type HealthCheck, runHealthChecks } from '../../../health/registry.js';
import { administrator, MOUNT } from './guard.js';

/** Health: each check of `GET /system/health`, its status, and what to do when it is not green. */
export function healthRoutes(scope: FastifyInstance, checks: readonly HealthCheck[]) {
  scope.get(`${MOUNT}/health`, { schema: { hide: true } }, async (request, reply) => {
    administrator(request, 'the health page');
    const report = await runHealthChecks(checks);
    return reply.page('system/health', { title: 'Health', report }, 'health');
  });
}
