import { createPrivateKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { CERTIFICATE_ERROR_CODES } from './tls-errors.js';

/** Service credentials JSON as the Developer Console (or `latchkey credentials create`) gives it. */
export interface ServiceCredentialsJson {
  readonly integration: {
    readonly imsEndpoint: string;
    readonly metascopes: string;
    readonly technicalAccount: { readonly clientId: string; readonly clientSecret: string };
    readonly id: string;
    readonly org: string;
    readonly privateKey: string;
  };
}

export interface TokenResponse {
  readonly token_type: 'bearer';
  readonly access_token: string;
  /** Milliseconds, as IMS answers. */
  readonly expires_in: number;
}

export class ExchangeError extends Error {
  override readonly name = 'ExchangeError';
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status: number) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/**
 * Where the IMS of `imsEndpoint` is reached: `https://<imsEndpoint>`, as Adobe's clients call it,
 * unless the endpoint names its scheme.
 */
export function imsBaseUrl(imsEndpoint: string): string {
  if (/^https?:\/\//.test(imsEndpoint)) return imsEndpoint.replace(/\/+$/, '');
  return `https://${imsEndpoint}`;
}

/** Whether `imsEndpoint` (no scheme) is a loopback address: a local IMS may speak plain HTTP. */
function loopback(imsEndpoint: string): boolean {
  const host = imsEndpoint.replace(/:\d+$/, '');
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
}

/** The TLS handshake met a server speaking plain HTTP. */
function plainHttp(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  const code = e?.cause?.code ?? e?.code;
  return code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO';
}

/**
 * Exchanges service credentials for an access token: signs a JWT (RS256, 5 minutes, one
 * metascope claim per metascope, a fresh `jti`) with the credentials' private key and posts it to
 * the IMS named in the credentials. Takes the JSON as it is.
 *
 * @example
 * ```ts
 * const { access_token } = await exchange(JSON.parse(readFileSync('credentials.json', 'utf8')));
 * await fetch('https://author…/content/dam.json', { headers: { authorization: `Bearer ${access_token}` } });
 * ```
 */
export async function exchange(
  credentials: ServiceCredentialsJson,
  options: { fetch?: typeof fetch; now?: number } = {},
): Promise<TokenResponse> {
  const i = credentials?.integration;
  if (!i?.technicalAccount?.clientId || !i.privateKey || !i.imsEndpoint) {
    throw new ExchangeError(
      'invalid_credentials',
      'not service credentials: integration.technicalAccount, privateKey and imsEndpoint are required',
      0,
    );
  }
  // Adobe's clients always call https://<imsEndpoint>. A local IMS (a loopback address) may speak
  // plain HTTP (latchkey start --ims-http): when the TLS handshake meets one, ask it over http://.
  const bases = [imsBaseUrl(i.imsEndpoint)];
  if (!/^https?:\/\//.test(i.imsEndpoint) && loopback(i.imsEndpoint))
    bases.push(`http://${i.imsEndpoint}`);
  let res: Response | undefined;
  for (const [n, base] of bases.entries()) {
    const jwt = await signFor(i, base, options.now);
    try {
      res = await (options.fetch ?? fetch)(`${base}/ims/exchange/jwt`, {
        method: 'POST',
        body: new URLSearchParams({
          client_id: i.technicalAccount.clientId,
          client_secret: i.technicalAccount.clientSecret,
          jwt_token: jwt,
        }),
      });
      break;
    } catch (err) {
      if (n + 1 < bases.length && plainHttp(err)) continue;
      const e = err as { code?: string; cause?: { code?: string }; message?: string };
      const cause = e.cause?.code ?? e.code ?? e.message ?? String(err);
      const hint = CERTIFICATE_ERROR_CODES.has(cause)
        ? ": its certificate is not trusted (for latchkey start's local CA: NODE_EXTRA_CA_CERTS=<data>/tls/ca.crt)"
        : '';
      throw new ExchangeError(
        'ims_unreachable',
        `cannot reach the IMS at ${base}: ${cause}${hint}`,
        0,
      );
    }
  }
  if (!res) throw new ExchangeError('ims_unreachable', 'cannot reach the IMS', 0);
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    throw new ExchangeError(
      String(body['error'] ?? 'exchange_failed'),
      String(body['error_description'] ?? `HTTP ${res.status}`),
      res.status,
    );
  }
  return body as unknown as TokenResponse;
}

/** The exchange JWT for the IMS at `base`: its `aud` and metascope claims name that URL. */
async function signFor(
  i: ServiceCredentialsJson['integration'],
  base: string,
  nowMs: number | undefined,
): Promise<string> {
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(i.privateKey);
  } catch {
    throw new ExchangeError(
      'invalid_credentials',
      'the private key of the credentials does not load (a PEM RSA private key is expected)',
      0,
    );
  }
  const now = Math.floor((nowMs ?? Date.now()) / 1000);
  const metascopes: Record<string, true> = {};
  for (const m of (i.metascopes ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean))
    metascopes[`${base}/s/${m}`] = true;
  return new SignJWT(metascopes)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuer(i.org)
    .setSubject(i.id)
    .setAudience(`${base}/c/${i.technicalAccount.clientId}`)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .setJti(randomUUID())
    .sign(key);
}
