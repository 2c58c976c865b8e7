import { readFileSync } from 'node:fs';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import multipart from '@fastify/multipart';
import Fastify, {
  type FastifyInstance,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import type { AuditLog } from '../audit/log.js';
import { type AuditScope, runAudited } from '../audit/record.js';
import type { Config } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { sendError } from './errors.js';
import { registerOpenApi } from './openapi.js';
import { multipartBeforeValidation } from './read-form.js';
import { safeUrl } from './request-context.js';

/** Fastify options shared by every role: logging without secrets, limits, TLS. */
export function serverOptions(config: Config, logger: FastifyServerOptions['logger'] | undefined) {
  let https: { cert: Buffer; key: Buffer } | undefined;
  if (config.tls) {
    const read = (option: string, file: string) => {
      try {
        return readFileSync(file);
      } catch (err) {
        throw new ConfigError(
          option,
          `${option}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
      }
    };
    https = { cert: read('tls.cert', config.tls.cert), key: read('tls.key', config.tls.key) };
  }
  return {
    logger: logger ?? {
      level: config.logLevel,
      serializers: {
        req: (req: { method: string; url: string; ip?: string }) => ({
          method: req.method,
          url: safeUrl(req.url),
          remoteAddress: req.ip,
        }),
      },
    },
    bodyLimit: config.http.bodyLimit,
    // Whole-request and header deadlines: a slow client cannot hold a connection forever.
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    routerOptions: { maxParamLength: config.http.maxPathLength * 3 },
    return503OnClosing: true,
    ...(https ? { https } : {}),
  } satisfies FastifyServerOptions & { https?: unknown };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's audit scope (see audit/record.ts), once the first hook ran. */
    auditScope: AuditScope | null;
  }
}

/** The audit log of an app, and who a request acts as once it is authenticated. */
export interface AppAudit {
  readonly log: AuditLog;
  readonly actorOf?: (request: FastifyRequest) => string | undefined;
}

/**
 * A Fastify app as every role starts it: the options above, the one error mapper (also for
 * Fastify's own URL errors and schema validation), JSON 404s, security headers (helmet;
 * `Cache-Control: no-store` everywhere), urlencoded and multipart forms within the limits, and
 * the OpenAPI document of its routes at `openapi.path`. With `audit`, every hook and handler runs
 * in an audit scope naming the client's address and the authenticated user, so that the domain
 * operations they call record security events with `audit()` (see audit/record.ts).
 */
export async function createApp(
  config: Config,
  logger: FastifyServerOptions['logger'] | undefined,
  openapi: { title: string; description: string; path: string },
  audit?: AppAudit,
): Promise<FastifyInstance> {
  const app = Fastify({
    ...serverOptions(config, logger),
    frameworkErrors: (err, request, reply) => {
      sendError(err, request, reply);
    },
  });
  app.setErrorHandler((err, request, reply) => sendError(err, request, reply));
  if (audit) {
    app.decorateRequest('auditScope', null);
    const scopeOf = (request: FastifyRequest): AuditScope => {
      request.auditScope ??= {
        log: audit.log,
        address: request.ip,
        actor: () => audit.actorOf?.(request),
      };
      return request.auditScope;
    };
    // Entered twice: body parsing (between the two) runs in the socket's context, not the
    // request's, so the handler enters the scope again. First of all hooks, so that the origin
    // check and authentication record their refusals.
    app.addHook('onRequest', (request, _reply, done) => runAudited(scopeOf(request), done));
    app.addHook('preHandler', (request, _reply, done) => runAudited(scopeOf(request), done));
  }
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: 'not_found', error_description: `no route for ${request.method}` }),
  );
  await app.register(helmet, {
    // helmet's defaults (nosniff: error descriptions echo input; frames from the same origin only;
    // no Referer sent; a strict CSP), HSTS only where it means something: under TLS.
    hsts: config.tls ? { maxAge: 31_536_000, includeSubDomains: false } : false,
    referrerPolicy: { policy: 'no-referrer' },
    contentSecurityPolicy: {
      directives: { upgradeInsecureRequests: config.tls ? [] : null, frameAncestors: ["'self'"] },
    },
  });
  // Responses carry tokens, secrets, private keys and users' data: never stored by a cache
  // (RFC 6749 5.1). A route whose answer may be cached says so itself.
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    reply.header('pragma', 'no-cache');
  });
  await app.register(formbody, { bodyLimit: config.http.bodyLimit });
  await app.register(multipart, {
    limits: {
      fieldNameSize: 256,
      fieldSize: config.http.bodyLimit,
      fields: 1000,
      fileSize: config.http.bodyLimit,
      files: 20,
      parts: 1100,
      headerPairs: 100,
    },
  });
  // Only routes whose schema describes a body read a multipart body before validation: the hot
  // paths (GET) get no extra hook.
  app.addHook('onRoute', (route) => {
    if (route.schema?.body === undefined) return;
    const own = route.preValidation;
    route.preValidation = [
      multipartBeforeValidation,
      ...(own === undefined ? [] : Array.isArray(own) ? own : [own]),
    ];
  });
  await registerOpenApi(app, openapi);
  return app;
}
