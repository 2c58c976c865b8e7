import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { LogController } from 'fastify';
import pino, { type DestinationStream, type LoggerOptions } from 'pino';
import type { Config } from '../config/load.js';
import { clipForLog } from './log-limiter.js';
import { safeUrl } from './request-context.js';

/**
 * Where a server's log lines go: `undefined` for the default (see {@link createLogger}), `false`
 * for none, or a level and a stream of JSON lines (tests read them).
 */
export type LogTarget =
  | false
  | undefined
  | { readonly level?: string; readonly stream: { write(line: string): void } };

/**
 * Routes that answer what other processes ask all the time (instances pull the revocation list
 * every few seconds and the keys when they change, load balancers ask for health, scrapers for
 * metrics): answered normally, they are logged at debug, not at info.
 */
const ROUTINE_ROUTES: ReadonlySet<string> = new Set([
  '/ims/revocations',
  '/ims/keys',
  '/ims/.well-known/openid-configuration',
  '/.well-known/oauth-authorization-server/ims',
  '/system/health',
  '/system/metrics',
  '/ims/metrics',
]);

/** Request ids of this process: one sequence for every server in it (the author and the IMS of latchkey start). */
let requestSeq = 0;
export function nextRequestId(): string {
  requestSeq += 1;
  return `req-${requestSeq}`;
}

/**
 * The server's logger: every line names its role (`role`, beside pino's `pid` and `hostname`).
 * By default, at `config.logLevel`, on stdout: JSON lines, or, when stdout is a terminal,
 * one readable line per event (time, level, role, request id, message; pino-pretty).
 */
export function createLogger(config: Config, target: LogTarget): FastifyBaseLogger | undefined {
  if (target === false) return undefined;
  const options: LoggerOptions = {
    level: target?.level ?? config.logLevel,
    base: { pid: process.pid, hostname: hostname(), role: config.role },
    serializers: {
      req: (req: { method: string; url: string; ip?: string }) => ({
        method: req.method,
        url: clipForLog(safeUrl(req.url), 512),
        remoteAddress: req.ip,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  };
  const stream: DestinationStream = target
    ? { write: (line: string) => target.stream.write(line) }
    : process.stdout.isTTY
      ? readable()
      : pino.destination({ dest: 1, sync: true });
  return pino(options, stream) as FastifyBaseLogger;
}

/** Log lines for a person at a terminal: `12:00:01.234 INFO author req-7 GET /content.json 200 (3.1 ms)`. */
function readable(): DestinationStream {
  // Loaded only for a terminal: a server whose output goes to a file or a pipe never needs it.
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  return pretty({
    destination: 1,
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    singleLine: true,
    ignore: 'pid,hostname,role,reqId,req,res,responseTime',
    messageFormat: (log, messageKey) => {
      const role = typeof log['role'] === 'string' ? log['role'] : '?';
      const id = typeof log['reqId'] === 'string' ? ` ${log['reqId']}` : '';
      const req = log['req'] as { method?: string; url?: string } | undefined;
      const res = log['res'] as { statusCode?: number } | undefined;
      const ms = typeof log['responseTime'] === 'number' ? log['responseTime'].toFixed(1) : '';
      const msg = String(log[messageKey] ?? '');
      if (msg === 'request completed' && req && res)
        return `${role}${id} ${req.method} ${req.url} ${res.statusCode} (${ms} ms)`;
      if (msg === 'incoming request' && req) return `${role}${id} ${req.method} ${req.url}`;
      return `${role}${id} ${msg}`;
    },
  });
}

/**
 * One line per request at info, when it completes (method, path, status, time); its start only
 * at debug; requests of {@link ROUTINE_ROUTES} answered without error at debug.
 */
export class RequestLogs extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const fields = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) {
      reply.log.error({ ...fields, err: error }, 'request errored');
      return;
    }
    const routine = reply.statusCode < 400 && ROUTINE_ROUTES.has(request.routeOptions.url ?? '');
    if (routine) reply.log.debug(fields, 'request completed');
    else reply.log.info(fields, 'request completed');
  }
}
