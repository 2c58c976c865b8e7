import type { FastifyInstance } from 'fastify';
import type { CredentialThrottle } from '../auth/throttle.js';
import { throttled } from '../metrics/registry.js';
import { clipForLog } from './log-limiter.js';

/**
 * A server's throttle reports to its metrics and log: each refusal is counted, and failures and
 * refusals are logged with the user name as sent (clipped: a form may send a megabyte), at most
 * once a minute per address and kind.
 */
export function reportThrottleEvents(app: FastifyInstance, throttle: CredentialThrottle): void {
  throttle.onEvent = (e) => {
    if (e.event === 'throttled') throttled.inc({ kind: e.kind });
    app.warnings.write(
      app.log,
      `${e.kind} ${e.event} ${e.address}`,
      { user: clipForLog(e.user), address: e.address, kind: e.kind },
      `${e.kind} ${e.event}`,
    );
  };
}
