import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import view from '@fastify/view';
import { Eta } from 'eta';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '../../errors.js';
import { toResponse } from '../errors.js';

/** The package's web folder: templates (`views/`) and the consoles' one style sheet and script. */
const WEB = fileURLToPath(new URL('../../../web/', import.meta.url));
const VIEWS = join(WEB, 'views');

/** What every page of a console shows around its content. */
export interface ConsoleChrome {
  readonly console: { readonly name: string; readonly mount: string; readonly signOut: string };
  readonly user?: { readonly id: string; readonly admin: boolean } | undefined;
  /** Tabs, the current one marked. */
  readonly nav?: readonly { href: string; label: string; current?: boolean }[];
  /** A CSRF token for the page's forms (the sign-out form included). */
  readonly csrf?: string | undefined;
}

/** A page: its title, optional breadcrumbs and one notice or alert above its content. */
export interface PageData {
  readonly title: string;
  readonly crumbs?: readonly { label: string; href?: string }[];
  readonly notice?: string | undefined;
  /**
   * What went wrong, above the content. Not `error`: a partial sees the page's data as well as
   * its own (Eta's include merges them), and a field's own message is its `error`.
   */
  readonly alert?: string | undefined;
  readonly [name: string]: unknown;
}

export interface ConsoleOptions {
  /** `/system/console`, `/ims/console` */
  readonly mount: string;
  readonly name: string;
  /** The chrome of a page for this request (who is signed in, tabs, a CSRF token). */
  readonly chrome: (request: FastifyRequest, current?: string) => ConsoleChrome;
  /** Where a request that is not signed in is sent (with `?resource=` the page it wanted). */
  readonly signInPath: string;
}

/** Console pages (`METHOD url`) per app, for the OpenAPI test: they are left out of the API documents. */
const pagesByApp = new WeakMap<FastifyInstance, Set<string>>();

/** The console pages of an app, as `METHOD url` (Fastify's url syntax). */
export function consolePagesOf(app: FastifyInstance): ReadonlySet<string> {
  return pagesByApp.get(app) ?? new Set();
}

const assets = {
  'console.css': {
    type: 'text/css; charset=utf-8',
    body: readFileSync(join(WEB, 'assets/console.css')),
  },
  'console.js': {
    type: 'text/javascript; charset=utf-8',
    body: readFileSync(join(WEB, 'assets/console.js')),
  },
} as const;

declare module 'fastify' {
  interface FastifyReply {
    /** Renders a console page (template under web/views) with the console's chrome. */
    page(template: string, data: PageData, current?: string): Promise<FastifyReply>;
  }
}

/**
 * Registers a console: server-rendered pages (eta templates through @fastify/view), its style
 * sheet and script served from the package (no external host), and HTML error pages for its
 * routes (a person reads them; the JSON error mapper stays for the APIs). Console pages are for
 * people, not programs: every one is hidden from the OpenAPI document (`schema.hide`), and this
 * refuses a route that is not.
 */
export async function registerConsole(
  app: FastifyInstance,
  options: ConsoleOptions,
  routes: (scope: FastifyInstance) => void | Promise<void>,
): Promise<void> {
  const pages = pagesByApp.get(app) ?? new Set<string>();
  pagesByApp.set(app, pages);
  await app.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      if ((route.schema as { hide?: boolean } | undefined)?.hide !== true)
        throw new TypeError(`console route ${route.url} must have schema.hide: true`);
      for (const method of [route.method].flat())
        if (method !== 'HEAD') pages.add(`${method} ${route.url}`);
    });
    // A form posted from a page whose policy is no-referrer carries `Origin: null`, which the
    // CSRF filter refuses as foreign: console pages tell the browser their own origin may know.
    scope.addHook('onRequest', async (_request, reply) => {
      reply.header('referrer-policy', 'same-origin');
    });
    await scope.register(view, {
      engine: { eta: new Eta({ autoEscape: true, cache: true }) },
      root: VIEWS,
      production: true,
    });
    scope.decorateReply(
      'page',
      async function (this: FastifyReply, template: string, data: PageData, current?: string) {
        const html = await this.viewAsync(template, {
          ...options.chrome(this.request, current),
          ...data,
        });
        return this.type('text/html; charset=utf-8').send(html);
      },
    );
    for (const [name, asset] of Object.entries(assets)) {
      scope.get(`${options.mount}/assets/${name}`, { schema: { hide: true } }, async (_r, reply) =>
        reply
          // The one thing that may be cached: it holds nothing private.
          .header('cache-control', 'public, max-age=3600')
          .removeHeader('pragma')
          .type(asset.type)
          .send(asset.body),
      );
    }
    scope.setErrorHandler((err, request, reply) =>
      errorPage(err as Error, request, reply, options),
    );
    await routes(scope);
    // A mistyped address under the console is a console page too (not the APIs' JSON): the
    // sign-in page first, then a 404 page with the way back.
    scope.get(`${options.mount}/*`, { schema: { hide: true } }, async () => {
      throw new NotFoundError(`there is no page at this address in the ${options.name}`);
    });
  });
}

/** Plain words for the errors a console user meets; anything else keeps its own message. */
const MESSAGES: Readonly<Record<string, string>> = {
  csrf_token:
    'This form was open too long (over 15 minutes) or belongs to another session, so it was not sent. Go back, reload the page and try again.',
  csrf_origin:
    'This request came from a page of another site, so it was refused. Use the console itself.',
  too_many_requests:
    'Too many failed attempts from your address. Wait a few minutes and try again.',
  server_error:
    'Something went wrong on the server; nothing was changed. The server log has the details.',
  temporarily_unavailable: 'The server is busy. Try again in a moment.',
};

async function errorPage(
  err: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
  options: ConsoleOptions,
): Promise<FastifyReply> {
  const { status, headers, body } = toResponse(err);
  if (status >= 500) request.log.error({ err }, 'request failed');
  else request.log.info({ code: body.error, status }, 'request refused');
  if (status === 401 && request.method === 'GET') {
    return reply
      .code(303)
      .header('location', `${options.signInPath}?resource=${encodeURIComponent(request.url)}`)
      .send();
  }
  reply.code(status).headers(headers);
  return reply.page('error', {
    title: status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'That did not work',
    alert: MESSAGES[body.error] ?? plainAlert(body.error, body.error_description),
    status,
  });
}

/** A refusal without a message of its own: its description, or plain words for a body too large. */
function plainAlert(code: string, description: string): string {
  const limit = code === 'payload_too_large' ? /over (\d+) bytes/.exec(description) : null;
  if (!limit) return sentence(description);
  const bytes = Number(limit[1]);
  const size =
    bytes >= 1024 * 1024
      ? `${+(bytes / 1024 / 1024).toFixed(1)} MB`
      : `${Math.ceil(bytes / 1024)} KB`;
  return `What you sent is larger than this server accepts (${size}, ${bytes} bytes), so nothing was changed. Choose a smaller file, or paste less.`;
}

/**
 * The names of the HTTP interfaces' fields, as a person filling a console form knows them: an
 * error of the shared operations (`authorizableId must be…`) reads as the console's words.
 */
const PLAIN_NAMES: readonly [RegExp, string][] = [
  [/^authorizableId\b/, 'the id'],
  [/^rep:password (?:is required and )?must not be empty\b/, 'enter a password'],
  [/^an authorizable\b/, 'a user or group'],
  [/^token\.expiration\b/, 'the token expiration'],
  [/^token\.samesite\.cookie\.attr\b/, 'the SameSite attribute'],
  [/^token\.encapsulated\b/, 'encapsulated token support'],
  [/^rep: properties are protected\b/, 'properties whose names start with rep: are protected'],
  [/give its passphrase \(--passphrase-file or LATCHKEY_KEYS_PASSPHRASE\)/, 'enter its passphrase'],
];

/**
 * An error description as a sentence: the console's words for the interfaces' field names, a
 * capital first letter unless the text starts with a name that is spelled as it is
 * (`jcr:primaryType`, `rep:User`), a final full stop.
 */
export function sentence(text: string): string {
  let t = text.trim();
  if (t === '') return t;
  for (const [name, plain] of PLAIN_NAMES) t = t.replace(name, plain);
  const first = /^\S+/.exec(t)![0];
  const capital = /^[a-z]+,?$/.test(first) ? `${t[0]!.toUpperCase()}${t.slice(1)}` : t;
  return `${capital}${/[.!?]$/.test(t) ? '' : '.'}`;
}
