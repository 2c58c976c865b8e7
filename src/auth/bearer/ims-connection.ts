import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { CERTIFICATE_ERROR_CODES } from '../../client/tls-errors.js';

/** Why the IMS could not be reached or understood: what health reports and logs name. */
export type ImsFailureKind =
  | 'untrusted_certificate'
  | 'refused'
  | 'timeout'
  | 'unknown_host'
  | 'not_https'
  | 'connection_failed'
  | 'http_status'
  | 'bad_response';

/** The IMS did not answer as it should; `kind` says why, the message says it for people. */
export class ImsUnreachableError extends Error {
  override readonly name = 'ImsUnreachableError';
  readonly kind: ImsFailureKind;
  /** The network error's code (`ECONNREFUSED`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`…), if any. */
  readonly code: string | undefined;
  constructor(kind: ImsFailureKind, message: string, code?: string) {
    super(message);
    this.kind = kind;
    this.code = code;
  }
}

/** A network error, classified: the code stays in the message so that it can be looked up. */
export function classify(err: unknown, url: string, timeoutMs: number): ImsUnreachableError {
  if (err instanceof ImsUnreachableError) return err;
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e?.code ?? e?.cause?.code ?? '';
  const at = `${url}:`;
  if (CERTIFICATE_ERROR_CODES.has(code)) {
    return new ImsUnreachableError(
      'untrusted_certificate',
      `${at} certificate not trusted (${code}): trust its CA with ims.ca (--ims-ca FILE) or NODE_EXTRA_CA_CERTS`,
      code,
    );
  }
  if (code === 'ECONNREFUSED')
    return new ImsUnreachableError('refused', `${at} connection refused (ECONNREFUSED)`, code);
  if (code === 'ETIMEDOUT' || code === 'ABORT_ERR' || code === 'ESOCKETTIMEDOUT')
    return new ImsUnreachableError('timeout', `${at} no answer within ${timeoutMs} ms`, code);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new ImsUnreachableError('unknown_host', `${at} host not found (${code})`, code);
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO')
    return new ImsUnreachableError(
      'not_https',
      `${at} the server does not speak HTTPS (${code}): is the IMS URL http://?`,
      code,
    );
  return new ImsUnreachableError(
    'connection_failed',
    `${at} ${code || (e?.message ?? String(err)).slice(0, 200)}`,
    code,
  );
}

export interface TrustOptions {
  /**
   * PEM text of CA certificates to trust besides Node's bundled roots and NODE_EXTRA_CA_CERTS
   * (`ims.ca`: latchkey start's local CA, for one).
   */
  readonly ca?: string | undefined;
  /** Per request (default 5000 ms). */
  readonly timeoutMs?: number;
}

/** The trust anchors for `extra`: Node's bundled roots, NODE_EXTRA_CA_CERTS, and `extra`. */
function trustAnchors(extra: string): string[] {
  const anchors = [...rootCertificates];
  const env = process.env['NODE_EXTRA_CA_CERTS'];
  if (env) {
    try {
      anchors.push(readFileSync(env, 'utf8'));
    } catch {
      // Node itself warns about an unreadable NODE_EXTRA_CA_CERTS at start-up
    }
  }
  anchors.push(extra);
  return anchors;
}

/**
 * HTTP(S) requests with the trust an instance was configured with (`ims.ca`), over keep-alive
 * agents, every failure classified ({@link ImsUnreachableError}): for the IMS's keys and
 * revocation list, and for IMS configurations' token exchanges (its {@link TrustedClient.fetch}).
 */
export class TrustedClient {
  readonly timeoutMs: number;
  readonly #https: HttpsAgent;
  readonly #http = new HttpAgent({ keepAlive: true });

  constructor(options: TrustOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.#https = new HttpsAgent({
      keepAlive: true,
      ...(options.ca ? { ca: trustAnchors(options.ca) } : {}),
    });
  }

  /** `GET url` as JSON; throws {@link ImsUnreachableError}. */
  async getJson(url: string): Promise<unknown> {
    const res = await this.#send(url, 'GET', undefined, undefined);
    const text = await readBody(res, 4 * 1024 * 1024).catch((err) => {
      throw classify(err, url, this.timeoutMs);
    });
    if (res.statusCode !== 200) {
      throw new ImsUnreachableError('http_status', `${url}: answered HTTP ${res.statusCode}`);
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new ImsUnreachableError('bad_response', `${url}: the answer is not JSON`);
    }
  }

  /** A `fetch` with this client's trust (method, headers, a string or form body). */
  readonly fetch: typeof fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const body =
      init?.body === undefined || init.body === null ? undefined : String(init.body as string);
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => {
      headers[k] = v;
    });
    if (init?.body instanceof URLSearchParams)
      headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    const res = await this.#send(url, init?.method ?? 'GET', headers, body);
    const out = new Headers();
    for (const [k, v] of Object.entries(res.headers))
      if (v !== undefined) out.set(k, Array.isArray(v) ? v.join(', ') : v);
    return new Response(Readable.toWeb(res) as ReadableStream, {
      status: res.statusCode ?? 502,
      headers: out,
    });
  };

  close(): void {
    this.#https.destroy();
    this.#http.destroy();
  }

  #send(
    url: string,
    method: string,
    headers: Record<string, string> | undefined,
    body: string | undefined,
  ): Promise<IncomingMessage> {
    const https = url.startsWith('https:');
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(
        url,
        {
          method,
          agent: https ? this.#https : this.#http,
          headers: {
            ...headers,
            ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
          },
          signal: AbortSignal.timeout(this.timeoutMs),
        },
        resolve,
      );
      req.on('error', (err) => reject(classify(err, url, this.timeoutMs)));
      req.end(body);
    });
  }
}

/** An instance's IMS (`ims.url`): its documents, fetched through a {@link TrustedClient}. */
export class ImsConnection {
  readonly url: string;
  readonly client: TrustedClient;

  constructor(imsUrl: string, client: TrustedClient) {
    this.url = imsUrl.replace(/\/+$/, '');
    this.client = client;
  }

  /** `GET <ims><path>` as JSON; throws {@link ImsUnreachableError}. */
  getJson(path: string): Promise<unknown> {
    return this.client.getJson(`${this.url}${path}`);
  }
}

function readBody(res: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        res.destroy();
        reject(new ImsUnreachableError('bad_response', `answer larger than ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}
