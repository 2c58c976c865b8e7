import { createHmac } from 'node:crypto';
import CsrfTokens from '@fastify/csrf';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { audit } from '../audit/record.js';
import { readCookie, TOKEN_COOKIE } from '../auth/tokens/cookie.js';
import { LatchkeyError } from '../errors.js';
import { hostOf } from './host.js';
import { clipForLog } from './log-limiter.js';
import { readMultipart } from './read-form.js';
import { csrfTokenSchema } from './schemas/instance.js';

/** Where browsers get a CSRF token, as AEM's Granite CSRF servlet serves it. */
export const CSRF_TOKEN_PATH = '/libs/granite/csrf/token.json';
/** The request header that carries it back, as AEM's `granite.csrf.standalone.js` sends it. */
export const CSRF_HEADER = 'csrf-token';
/**
 * The form field that may carry it instead, as AEM's CSRF filter also accepts it: an HTML form
 * cannot set a header, so the consoles' forms send the token as a hidden field.
 */
export const CSRF_FIELD = ':cq_csrf_token';
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
  /**
   * Whether the request's `Authorization` header authenticated it (Basic, Bearer), so that no
   * cookie was used: such a write needs no token. Default: never (then a write that carries the
   * cookie always needs a token, whatever other headers it carries).
   */
  readonly authenticatedByHeader?: (request: FastifyRequest) => boolean;
  /** Writes that need no token (they are still origin-checked): login, logout. */
  readonly tokenExempt?: ReadonlySet<string>;
  /** The cookie whose presence makes a write cookie-authenticated (default `login-token`). */
  readonly cookie?: string;
  /** Where browsers GET a token as JSON (`/libs/granite/csrf/token.json` on instances); none if unset. */
  readonly tokenPath?: string;
}

/** Makes tokens for pages that embed them in their forms (the consoles). */
export interface CsrfTokenIssuer {
  /** A token bound to the user the request acts as (see {@link CsrfOptions.userOf}). */
  tokenFor(request: FastifyRequest): string;
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
 * browser says. `Sec-Fetch-Site: cross-site` or `same-site` (a sibling subdomain is another
 * origin) admits only an origin of `security.allowedOrigins`, named in `Origin` or `Referer`: a
 * redirect through another site leaves the first page's `Referer` but not this header.
 * Otherwise `Origin` (or, without one, `Referer`) must name this server or an allowed origin.
 * A request with none of the three (a script, curl) is not a browser's cross-site request.
 * `Origin: null` (sandboxed frames, data: URLs) is foreign.
 */
export function isSameOrigin(
  request: FastifyRequest,
  options: Pick<CsrfOptions, 'allowedOrigins' | 'tls'>,
): boolean {
  const named = request.headers.origin ?? originOf(request.headers.referer);
  const fetchSite = request.headers['sec-fetch-site'];
  if (fetchSite === 'cross-site' || fetchSite === 'same-site')
    return named !== undefined && options.allowedOrigins.includes(named);
  if (named === undefined) return true;
  if (options.allowedOrigins.includes(named)) return true;
  let url: URL;
  try {
    url = new URL(named);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' && (url.protocol !== 'http:' || options.tls)) return false;
  const host = hostOf(request);
  return host !== undefined && url.host === host;
}

function originOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return 'malformed';
  }
}

/** Throws {@link ForeignOriginError} unless {@link isSameOrigin} (and records the refusal). */
export function assertSameOrigin(
  request: FastifyRequest,
  options: Pick<CsrfOptions, 'allowedOrigins' | 'tls'>,
): void {
  if (isSameOrigin(request, options)) return;
  void audit({
    type: 'csrf.refused',
    outcome: 'refused',
    target: request.url.split('?')[0]!,
    details: {
      reason: 'origin',
      method: request.method,
      // The Referer's origin only: its path and query may hold anything.
      origin: request.headers.origin ?? originOf(request.headers.referer) ?? 'cross-site',
    },
  });
  throw new ForeignOriginError();
}

/**
 * CSRF protection as AEM's Granite CSRF filter gives it, for any of latchkey's apps:
 *
 * - every write (POST, PUT, DELETE, PATCH) that a browser says comes from another origin
 *   (`Origin`, or without one `Referer`, names a foreign origin; or `Sec-Fetch-Site` says
 *   `cross-site` or `same-site`) is refused with 403 `csrf_origin`: this covers login CSRF, and
 *   credentials a browser sends by itself (a cookie, or Basic credentials it cached after a
 *   challenge);
 * - a write that carries the `login-token` cookie must carry a token from
 *   `GET /libs/granite/csrf/token.json` (`{"token":"…"}`) in the header `CSRF-Token` (or, from an
 *   HTML form, the field `:cq_csrf_token`), else 403 `csrf_token`, unless Basic or Bearer
 *   credentials in its `Authorization` header authenticated it (then the cookie is not used). A
 *   header of another scheme, or garbage, exempts nothing. Tokens are bound to the user and valid
 *   15 minutes, made and checked by `@fastify/csrf` with a key derived from the hmac key.
 *
 * Scripts that authenticate with `curl -u` or `Authorization: Bearer` are unaffected. Call before
 * adding the authentication hook: the origin check runs before it (onRequest), the token check
 * after it (preHandler).
 */
export function csrfProtection(app: FastifyInstance, options: CsrfOptions): CsrfTokenIssuer {
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
    if (!keys) return;
    // Basic or Bearer that authenticated the request: the cookie was not used. An Authorization
    // header that authenticated nothing (another scheme, garbage) exempts nothing.
    if (options.authenticatedByHeader?.(request) === true) return;
    if (readCookie(request.headers.cookie, options.cookie ?? TOKEN_COOKIE) === undefined) return;
    const path = request.url.split('?')[0]!;
    if (exempt.has(path)) return;
    const token = request.headers[CSRF_HEADER] ?? (await tokenField(request));
    const user = userOf(request);
    const refuse = async (missing: boolean) => {
      await audit({
        type: 'csrf.refused',
        outcome: 'refused',
        actor: user,
        target: path,
        details: {
          reason: 'token',
          method: request.method,
          token: missing ? 'missing' : 'invalid',
        },
      });
      return new CsrfTokenError(missing);
    };
    if (typeof token !== 'string' || token === '') throw await refuse(true);
    if (!keys().some((k) => tokensFor(k).verify(SECRET, token, user))) {
      app.warnings.write(
        request.log,
        `csrf ${request.ip}`,
        { user: clipForLog(user) },
        'CSRF token refused',
      );
      throw await refuse(false);
    }
  });

  const tokenFor = (request: FastifyRequest): string => {
    if (!options.keys) throw new TypeError('csrfProtection: no keys, so no tokens');
    const [primary] = options.keys();
    return tokensFor(primary!).create(SECRET, userOf(request));
  };
  if (options.keys && options.tokenPath) {
    app.get(options.tokenPath, { schema: csrfTokenSchema }, async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return { token: tokenFor(request) };
    });
  }
  return { tokenFor };
}

/**
 * The token an HTML form sent as the field `:cq_csrf_token`. A multipart body not read yet (a
 * route without a body schema) is read here, and kept as the body for the handler.
 */
async function tokenField(request: FastifyRequest): Promise<string | undefined> {
  if (request.body === undefined && request.isMultipart())
    request.body = await readMultipart(request);
  const body = request.body;
  if (typeof body !== 'object' || body === null || !Object.hasOwn(body, CSRF_FIELD))
    return undefined;
  const value = (body as Record<string, unknown>)[CSRF_FIELD];
  return typeof value === 'string' ? value : undefined;
}
