import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { form, multipart } from './instance.js';

/** The CSRF token a console page put in its forms. */
export function csrfOf(html: string): string {
  const m = /name=":cq_csrf_token" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token on the page');
  return m[1]!;
}

/** The plain text of a page's element with this class (notice, alert, error), tags removed. */
export function textOf(html: string, className: string): string[] {
  return [
    ...html.matchAll(new RegExp(`class="${className}"[^>]*>([\\s\\S]*?)</(?:p|div)>`, 'g')),
  ].map((m) => m[1]!.replace(/<[^>]+>/g, '').trim());
}

/**
 * A browser's view of a console, in process: keeps the session cookie it is given, sends forms
 * with the page's CSRF token, follows nothing by itself.
 */
export class ConsoleClient {
  cookie = '';
  csrf = '';
  constructor(
    readonly app: FastifyInstance,
    readonly cookieName: string,
  ) {}

  #keep(res: LightMyRequestResponse): LightMyRequestResponse {
    const set = [res.headers['set-cookie'] ?? []].flat();
    for (const c of set) {
      const m = new RegExp(`^${this.cookieName}=([^;]*)`).exec(c);
      if (m) this.cookie = m[1] ? `${this.cookieName}=${m[1]}` : '';
    }
    const token = /name=":cq_csrf_token" value="([^"]+)"/.exec(res.body);
    if (token) this.csrf = token[1]!;
    return res;
  }

  async get(url: string, headers: Record<string, string> = {}) {
    return this.#keep(
      await this.app.inject({
        url,
        headers: { ...(this.cookie ? { cookie: this.cookie } : {}), ...headers },
      }),
    );
  }

  /** A form post with the current CSRF token (unless `csrf: false`). */
  async post(
    url: string,
    fields: [string, string][],
    options: {
      csrf?: boolean;
      files?: [string, string, Buffer][];
      headers?: Record<string, string>;
    } = {},
  ) {
    const all: [string, string][] = [
      ...(options.csrf !== false && this.csrf
        ? ([[':cq_csrf_token', this.csrf]] as [string, string][])
        : []),
      ...fields,
    ];
    const body = options.files ? multipart(all, options.files) : form(all);
    return this.#keep(
      await this.app.inject({
        method: 'POST',
        url,
        payload: body.payload,
        headers: {
          ...body.headers,
          ...(this.cookie ? { cookie: this.cookie } : {}),
          ...options.headers,
        },
      }),
    );
  }

  /** Signs in through the console's sign-in form; throws unless it redirects. */
  async signIn(path: string, user: string, password: string) {
    const res = await this.post(path, [
      ['j_username', user],
      ['j_password', password],
    ]);
    if (res.statusCode !== 303)
      throw new Error(`sign-in answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
    // Follow the redirects to the first page, which gives the forms' CSRF token.
    let next = await this.get(String(res.headers.location));
    for (let i = 0; i < 3 && next.statusCode === 303; i++)
      next = await this.get(String(next.headers.location));
    return res;
  }
}
