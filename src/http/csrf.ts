import { createHmac } from 'node:crypto';
import CsrfTokens from '@fastify/csrf';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { readCookie, TOKEN_COOKIE } from '../auth/tokens/cookie.js';
import { LatchkeyError } from '../errors.js';
import { csrfTokenSchema } from './schemas/instance.js';

/** Where browsers get a CSRF token, as AEM's Granite CSRF servlet serves it. */
export const CSRF_TOKEN_PATH = '/libs/granite/csrf/token.json';
/** The request header that carries it back, as AEM's `granite.csrf.standalone.js` sends it. */
export const CSRF_HEADER = 'csrf-token';
/** How long a token is good for; clients fetch a new one when refused (AEM: 10 minutes). */
export const CSRF_VALIDITY_MS = 15 * 60_000;

const UNSAFE = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

export interface CsrfOptions {
  /** Origins besides the server's own whose pages may send writes (`security.allowedOrigins`). */
  readonly allowedOrigins: readonly string[];
  /** Whether this server speaks HTTPS (then an `http:` page is a foreign origin). */
  readonly tls: boolean;
  /**
   * The keys tokens are bound with, newest first: the instance's hmac key versions, so that
   * every instance sharing the keys accepts every other's tokens, and a rotation keeps older
   * tokens good until they expire. `undefined`: this app takes no token (its writes are never
   * authenticated by a cookie), only the origin filter applies.
   */
  readonly keys?: () => readonly { readonly id: string; readonly material: Buffer }[];
  /** Whom a request acts as: tokens are bound to that user. */
  readonly userOf?: (request: FastifyRequest) => string;
  /** Writes that need no token (they are still origin-checked): login, logout. */
  readonly tokenExempt?: ReadonlySet<string>;
}

/** 403: a write whose Origin or Referer is another site's. */
export class ForeignOriginError extends LatchkeyError {
  override readonly name = 'ForeignOriginError';
  constructor() {
    super(
      'csrf_origin',
      'request refused: it comes from a page of another origin (see security.allowedOrigins)',
      403,
    );
  }
}

/** 403: a write authenticated by the login cookie without a valid CSRF token. */
export class CsrfTokenError extends LatchkeyError {
  override readonly name = 'CsrfTokenError';
  constructor(missing: boolean) {
    super(
      'csrf_token',
      `${missing ? 'missing' : 'invalid or expired'} CSRF token: GET ${CSRF_TOKEN_PATH} and send its token as header CSRF-Token`,
      403,
    );
  }
}

/**
 * Whether a request comes from the server's own pages (or an allowed origin), as far as the
 * browser says: a request without Origin, Referer or `Sec-Fetch-Site` (a script, curl) is not a
 * browser's cross-site request. `Origin: null` (sandboxed frames, data: URLs) is foreign.
 */
export function isSameOrigin(
  request: FastifyRequest,
  options: Pick<CsrfOptions, 'allowedOrigins' | 'tls'>,
): boolean {
  const host = request.headers.host;
  const allowed = (origin: string): boolean => {
    if (options.allowedOrigins.includes(origin)) return true;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    if (url.protocol !== 'https:' && (url.protocol !== 'http:' || options.tls)) return false;
    return host !== undefined && url.host === new URL(`http://${host}`).host;
  };
  const origin = request.headers.origin;
  if (origin !== undefined) return allowed(origin);
  const referer = request.headers.referer;
  if (referer !== undefined) {
    let from: string;
    try {
      from = new URL(referer).origin;
    } catch {
      return false;
    }
    return allowed(from);
  }
  // No Origin and no Referer (a referrer policy can hide both on GET): the browser still says
  // where the request comes from.
  return request.headers['sec-fetch-site'] !== 'cross-site';
}

/** Throws {@link ForeignOriginError} unless {@link isSameOrigin}. */
export function assertSameOrigin(
  request: FastifyRequest,
  options: Pick<CsrfOptions, 'allowedOrigins' | 'tls'>,
): void {
  if (!isSameOrigin(request, options)) throw new ForeignOriginError();
}

/**
 * CSRF protection as AEM's Granite CSRF filter gives it, for any of latchkey's apps:
 *
 * - every write (POST, PUT, DELETE, PATCH) whose `Origin` (or, without one, `Referer`) names a
 *   foreign origin is refused with 403 `csrf_origin`: this covers login CSRF, and credentials a
 *   browser sends by itself (a cookie, or Basic credentials it cached after a challenge);
 * - a write authenticated by the `login-token` cookie (a cookie and no `Authorization` header)
 *   must carry a token from `GET /libs/granite/csrf/token.json` (`{"token":"…"}`) in the header
 *   `CSRF-Token`, else 403 `csrf_token`. Tokens are bound to the user and valid 15 minutes, made
 *   and checked by `@fastify/csrf` with a key derived from the hmac key.
 *
 * Scripts that authenticate with `curl -u` or `Authorization: Bearer` and send no cookie and no
 * Origin are unaffected. Call before adding the authentication hook: the origin check runs before
 * it (onRequest), the token check after it (preHandler).
 */
export function csrfProtection(app: FastifyInstance, options: CsrfOptions): void {
  const exempt = options.tokenExempt ?? new Set<string>();
  const byKey = new Map<string, CsrfTokens.TokensUserinfo>();
  const tokensFor = (key: { id: string; material: Buffer }): CsrfTokens.TokensUserinfo => {
    let t = byKey.get(key.id);
    if (!t) {
      // A key of its own: the hmac key itself never leaves token signing.
      const hmacKey = createHmac('sha256', key.material).update('latchkey csrf token').digest();
      t = CsrfTokens({ userInfo: true, hmacKey, validity: CSRF_VALIDITY_MS });
      byKey.set(key.id, t);
    }
    return t;
  };
  // The tokens' secret is the hmac-derived key above; the "secret" argument needs no randomness.
  const SECRET = 'latchkey';
  const userOf = options.userOf ?? (() => 'anonymous');

  // Before authentication: a foreign page's request costs no password check.
  app.addHook('onRequest', async (request) => {
    if (UNSAFE.has(request.method)) assertSameOrigin(request, options);
  });
  // After it (the token binds to the subject), before any handler reads the body.
  app.addHook('preHandler', async (request) => {
    if (!UNSAFE.has(request.method)) return;
    const keys = options.keys;
    if (!keys || request.headers.authorization !== undefined) return;
    if (readCookie(request.headers.cookie, TOKEN_COOKIE) === undefined) return;
    const path = request.url.split('?')[0]!;
    if (exempt.has(path)) return;
    const token = request.headers[CSRF_HEADER];
    if (typeof token !== 'string' || token === '') throw new CsrfTokenError(true);
    const user = userOf(request);
    if (!keys().some((k) => tokensFor(k).verify(SECRET, token, user))) {
      request.log.warn({ user }, 'CSRF token refused');
      throw new CsrfTokenError(false);
    }
  });

  if (options.keys) {
    const keys = options.keys;
    app.get(CSRF_TOKEN_PATH, { schema: csrfTokenSchema }, async (request, reply) => {
      const [primary] = keys();
      reply.header('cache-control', 'no-store');
      return { token: tokensFor(primary!).create(SECRET, userOf(request)) };
    });
  }
}
