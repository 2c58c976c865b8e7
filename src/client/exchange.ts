import { createPrivateKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

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

/** `https://` unless the endpoint names its scheme, or is a loopback address (local development). */
export function imsBaseUrl(imsEndpoint: string): string {
  if (/^https?:\/\//.test(imsEndpoint)) return imsEndpoint.replace(/\/+$/, '');
  const host = imsEndpoint.replace(/:\d+$/, '');
  const local = host === 'localhost' || host === '[::1]' || host.startsWith('127.');
  return `${local ? 'http' : 'https'}://${imsEndpoint}`;
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
  const base = imsBaseUrl(i.imsEndpoint);
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const metascopes: Record<string, true> = {};
  for (const m of i.metascopes
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean))
    metascopes[`${base}/s/${m}`] = true;
  const jwt = await new SignJWT(metascopes)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuer(i.org)
    .setSubject(i.id)
    .setAudience(`${base}/c/${i.technicalAccount.clientId}`)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .setJti(randomUUID())
    .sign(createPrivateKey(i.privateKey));
  let res: Response;
  try {
    res = await (options.fetch ?? fetch)(`${base}/ims/exchange/jwt`, {
      method: 'POST',
      body: new URLSearchParams({
        client_id: i.technicalAccount.clientId,
        client_secret: i.technicalAccount.clientSecret,
        jwt_token: jwt,
      }),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new ExchangeError('ims_unreachable', `cannot reach the IMS at ${base}: ${cause}`, 0);
  }
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
