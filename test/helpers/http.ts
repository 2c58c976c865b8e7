import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json(): ReturnType<typeof JSON.parse>;
  /** Milliseconds from sending to the last byte. */
  readonly ms: number;
}

export interface HttpOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** The client's own address, e.g. 127.0.0.2: an attacker on another loopback address. */
  readonly localAddress?: string;
  /**
   * For https: the CA certificates (PEM) the server's certificate must chain to, checked as a
   * client that trusts them does. Without it the certificate is not checked.
   */
  readonly ca?: string | Buffer;
}

/**
 * One real HTTP request on a fresh connection (no agent, no pooling), as an attacker's script
 * sends it. Never throws for an HTTP status; rejects only on a network failure.
 */
export function http(url: string, options: HttpOptions = {}): Promise<HttpResponse> {
  const u = new URL(url);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = send(
      u,
      {
        method: options.method ?? 'GET',
        headers: {
          ...(options.body !== undefined
            ? { 'content-length': String(Buffer.byteLength(options.body)) }
            : {}),
          ...options.headers,
        },
        agent: false,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
        ...(options.ca ? { ca: options.ca } : { rejectUnauthorized: false }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text),
            ms: performance.now() - started,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** An urlencoded form body and its content type. */
export function formBody(pairs: [string, string][]): {
  body: string;
  headers: Record<string, string>;
} {
  return {
    body: new URLSearchParams(pairs).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  };
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** The value of cookie `name` among Set-Cookie headers. */
export function cookieValue(
  setCookie: string | string[] | undefined,
  name: string,
): string | undefined {
  for (const line of [setCookie ?? []].flat()) {
    const m = new RegExp(`^${name}=([^;]*)`).exec(line);
    if (m) return m[1];
  }
  return undefined;
}
