import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The process's metrics, in Prometheus's text format at `GET /system/metrics` (instances) and
 * `GET /ims/metrics` (IMS). One registry per process: `latchkey start` serves the IMS and the
 * author from one process, and both endpoints show it whole (the `role` label tells them apart).
 * Only counters and histograms with small, fixed label sets: route patterns, never URLs, user ids
 * or tokens, so that a scrape stays small whatever the traffic.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'latchkey_' });

export const httpRequests = new Counter({
  name: 'latchkey_http_requests_total',
  help: 'HTTP requests answered, by role, route pattern, method and status code',
  labelNames: ['role', 'route', 'method', 'status'] as const,
  registers: [registry],
});

export const logins = new Counter({
  name: 'latchkey_logins_total',
  help: 'Sign-ins with a user name and password (login form), by outcome (success, failure, throttled)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const tokenValidations = new Counter({
  name: 'latchkey_token_validations_total',
  help: 'Tokens presented to an instance, by kind (stateful, encapsulated, bearer) and outcome (valid, refused)',
  labelNames: ['kind', 'outcome'] as const,
  registers: [registry],
});

export const exchanges = new Counter({
  name: 'latchkey_exchanges_total',
  help: 'Access tokens requested at the IMS, by grant (jwt, client_credentials, jwt_bearer) and outcome (issued, refused)',
  labelNames: ['grant', 'outcome'] as const,
  registers: [registry],
});

export const revocations = new Counter({
  name: 'latchkey_revocations_total',
  help: 'Revocations recorded at the IMS, by kind (token, integration, user)',
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const throttled = new Counter({
  name: 'latchkey_throttled_requests_total',
  help: 'Credential checks refused with 429 after too many failures, by kind of check',
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const userPulls = new Counter({
  name: 'latchkey_users_pulls_total',
  help: "Pulls of the author's users (users.source), by outcome: unchanged, applied, failed",
  labelNames: ['outcome'] as const,
  registers: [registry],
});

/** A cache's own tally: plain increments on the hot path, read only when scraped. */
export interface CacheStats {
  hits: number;
  misses: number;
}
const caches: { name: string; stats: CacheStats }[] = [];

/** Reports a cache's hits and misses as `latchkey_cache_lookups_total{cache=name}`. */
export function watchCache(name: string, stats: CacheStats): void {
  caches.push({ name, stats });
}

export const cacheLookups = new Counter({
  name: 'latchkey_cache_lookups_total',
  help: 'Cache lookups, by cache (access, user-status, token-settings, stateful-tokens, basic-credentials, bearer) and result (hit, miss): hit rate = hit / (hit + miss)',
  labelNames: ['cache', 'result'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const { name, stats } of caches) {
      this.inc({ cache: name, result: 'hit' }, stats.hits);
      this.inc({ cache: name, result: 'miss' }, stats.misses);
    }
  },
});

export const storeLatency = new Histogram({
  name: 'latchkey_store_operation_seconds',
  help: 'Store operations, by backend and operation',
  labelNames: ['backend', 'op'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export const notificationLag = new Histogram({
  name: 'latchkey_change_notification_lag_seconds',
  help: "Time from a change event's publication by another process to its arrival here, by kind",
  labelNames: ['kind'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

export const notificationConnection = new Gauge({
  name: 'latchkey_change_connection_up',
  help: 'Whether the change notification connection (PostgreSQL LISTEN) is open: 1 or 0',
  registers: [registry],
});

export const notificationConnectionLosses = new Counter({
  name: 'latchkey_change_connection_losses_total',
  help: 'Times the change notification connection was lost (each followed by a reconnect and a full resync)',
  registers: [registry],
});
