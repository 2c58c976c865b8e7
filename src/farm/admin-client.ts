import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';

/** How the farm commands reach an instance's admin API. */
export interface AdminCredentials {
  readonly user: string;
  readonly password: string;
  /** Extra trusted certificate authorities (PEM), besides the system's and NODE_EXTRA_CA_CERTS. */
  readonly ca?: string | undefined;
  /** Per request; default 15 s. */
  readonly timeoutMs?: number;
}

/** What an instance answered, or why it could not be asked (a stable code and a sentence). */
export type AdminAnswer =
  | {
      readonly ok: true;
      /** `undefined` with `notModified` (304: the `If-None-Match` tag still holds). */
      readonly body: unknown;
      readonly etag?: string | undefined;
      readonly notModified?: boolean;
    }
  | { readonly ok: false; readonly error: string; readonly message: string };

/**
 * Calls an instance's admin API with HTTP Basic (the administrator's credentials, in a header:
 * never in the URL or a log line). `form`: a urlencoded body (POST). Never throws: a connection,
 * TLS or HTTP failure is an answer with `ok: false`, so that a farm command reports it for that
 * instance and goes on with the others. An instance's own error text is clipped and stripped of
 * control characters before anyone prints it.
 */
export function callAdmin(
  base: string,
  path: string,
  credentials: AdminCredentials,
  form?: Record<string, string>,
  extraHeaders: Record<string, string> = {},
): Promise<AdminAnswer> {
  const url = new URL(`${base}${path}`);
  const body = form === undefined ? undefined : new URLSearchParams(form).toString();
  const headers: Record<string, string> = {
    ...extraHeaders,
    accept: 'application/json',
    authorization: `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`,
  };
  if (body !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  const tls = url.protocol === 'https:';
  const send = tls ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = send(
      url,
      {
        method: body === undefined ? 'GET' : 'POST',
        headers,
        timeout: credentials.timeoutMs ?? 15_000,
        ...(tls && credentials.ca ? { ca: [...rootCertificates, credentials.ca] } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => resolve(connectionFailure(err)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          const status = res.statusCode ?? 0;
          const etag = res.headers.etag;
          if (status === 304)
            return resolve({ ok: true, body: undefined, etag, notModified: true });
          if (status === 200 && json !== undefined) return resolve({ ok: true, body: json, etag });
          const e = (json ?? {}) as { error?: unknown; error_description?: unknown };
          if (status === 401)
            return resolve({
              ok: false,
              error: 'unauthorized',
              message: `wrong user or password for ${credentials.user}`,
            });
          if (status === 404 && typeof e.error !== 'string')
            return resolve({
              ok: false,
              error: 'not_found',
              message: `${path} not found: not a latchkey instance, or one too old for this command`,
            });
          resolve({
            ok: false,
            error: typeof e.error === 'string' ? printable(e.error, 40) : `http_${status}`,
            message:
              typeof e.error_description === 'string'
                ? printable(e.error_description, 300)
                : `the instance answered HTTP ${status}`,
          });
        });
      },
    );
    req.on('timeout', () => {
      req.destroy(Object.assign(new Error('no answer in time'), { code: 'ETIMEDOUT' }));
    });
    req.on('error', (err) => resolve(connectionFailure(err)));
    req.end(body);
  });
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
]);

function connectionFailure(err: Error & { code?: string }): AdminAnswer {
  const code = err.code ?? '';
  if (TLS_CODES.has(code))
    return {
      ok: false,
      error: 'tls',
      message: `its certificate is not trusted (${code}): nothing was sent; give its CA with --ca FILE (or NODE_EXTRA_CA_CERTS)`,
    };
  if (code === 'ETIMEDOUT') return { ok: false, error: 'timeout', message: 'no answer in time' };
  if (code === 'EPROTO' || /ssl|tls/i.test(err.message))
    return {
      ok: false,
      error: 'tls',
      message: `TLS failed (${code || err.message}): is it serving HTTPS?`,
    };
  return {
    ok: false,
    error: 'unreachable',
    message: `cannot connect (${code || printable(err.message, 120)})`,
  };
}

function printable(text: string, max: number): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
