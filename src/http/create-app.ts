import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
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
import { httpRequests } from '../metrics/registry.js';
import { answerClientError } from './client-error.js';
import { refuseEncodedBody } from './content-encoding.js';
import { sendError } from './errors.js';
import { checkHost, hostAllowList } from './host.js';
import { LimitedWarnings } from './log-limiter.js';
import { createLogger, type LogTarget, nextRequestId, RequestLogs } from './logger.js';
import { registerOpenApi } from './openapi.js';
import { multipartBeforeValidation } from './read-form.js';

/** Fastify options shared by every role: logging without secrets, limits, TLS. */
export function serverOptions(config: Config, logger: LogTarget) {
  let https: { cert: Buffer; key: Buffer; requireHostHeader: false } | undefined;
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
    https = {
      cert: read('tls.cert', config.tls.cert),
      key: read('tls.key', config.tls.key),
      requireHostHeader: false,
    };
  }
  const loggerInstance = createLogger(config, logger);
  return {
    ...(loggerInstance ? { loggerInstance } : { logger: false }),
    // One sequence for every server of the process: the author's and the IMS's never share one.
    genReqId: nextRequestId,
    logController: new RequestLogs(),
    bodyLimit: config.http.bodyLimit,
    // Whole-request and header deadlines: a slow client cannot hold a connection forever.
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    routerOptions: { maxParamLength: config.http.maxPathLength * 3 },
    return503OnClosing: true,
    // Node would answer a missing Host itself, outside the error shape: checkHost does.
    http: { requireHostHeader: false },
    ...(https ? { https } : {}),
  } satisfies FastifyServerOptions & { https?: unknown; http?: unknown };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Warnings a client can cause at will, at most one per key a minute (see log-limiter.ts). */
    warnings: LimitedWarnings;
  }
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
 * `publicUrls` names URLs, known only at run time, whose host names requests may name (the
 * IMS's recorded public URL), besides those of the configuration (see host.ts).
 */
export async function createApp(
  config: Config,
  logger: LogTarget,
  openapi: { title: string; description: string; path: string },
  audit?: AppAudit,
  publicUrls?: () => readonly string[],
): Promise<FastifyInstance> {
  const app = Fastify({
    ...serverOptions(config, logger),
    frameworkErrors: (err, request, reply) => {
      sendError(err, request, reply);
    },
    // Requests Node's parser refuses (broken chunks, bad headers, headers too large).
    clientErrorHandler: answerClientError,
  });
  // An `Expect` other than 100-continue: Node would answer 417 with no body.
  app.server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    const body = JSON.stringify({
      error: 'expectation_failed',
      error_description: 'only Expect: 100-continue is supported',
    });
    res.writeHead(417, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
      connection: 'close',
    });
    res.end(body);
  });
  app.setErrorHandler((err, request, reply) => sendError(err, request, reply));
  app.decorate('warnings', new LimitedWarnings());

  // One counter per route pattern (never the URL): the label set stays small whatever is asked.
  app.addHook('onResponse', (request, reply, done) => {
    httpRequests.inc({
      role: config.role,
      route: request.routeOptions.url ?? 'unmatched',
      method: request.method,
      status: reply.statusCode,
    });
    done();
  });
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
  // Before every hook that reads the request (origin checks, authentication, routes) and after
  // the security headers, which its refusal carries too: nothing reads a malformed Host, and
  // nothing answers a Host that is not one of this server's names (DNS rebinding).
  app.addHook('onRequest', checkHost(hostAllowList(config, publicUrls)));
  app.addHook('onRequest', refuseEncodedBody);
  // Forms only (urlencoded, multipart): no endpoint takes JSON or text, so no body is parsed as
  // such (Fastify's built-in parsers would parse it before any route could refuse it), and the
  // refusal is one 415 whatever the type.
  app.removeAllContentTypeParsers();
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
