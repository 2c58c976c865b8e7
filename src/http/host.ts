import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/load.js';
import { LatchkeyError } from '../errors.js';
import { clipForLog } from './log-limiter.js';

/**
 * The `Host` header as RFC 9110 allows it: a DNS name, IPv4 address or bracketed IPv6 literal,
 * and an optional port; ASCII only, no user info, no path, at most 261 characters (a 255-character
 * name and a port). Anything else is a client's mistake or an attack on code that builds URLs.
 */
const HOST =
  /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,253}[A-Za-z0-9_.])?|\[[0-9A-Fa-f:.]{2,45}(?:%25[A-Za-z0-9._~-]{1,32})?\])(?::(\d{1,5}))?$/;

/** The request's host (`name[:port]`, lower case) if its `Host` header is well-formed. */
export function hostOf(request: FastifyRequest): string | undefined {
  const host = request.headers.host;
  if (host === undefined) return undefined;
  const m = HOST.exec(host);
  if (!m || (m[1] !== undefined && Number(m[1]) > 65_535)) return undefined;
  try {
    // The URL parser has the last word (an IPv6 literal it cannot read, for one).
    return new URL(`http://${host}`).host;
  } catch {
    return undefined;
  }
}

/** 400 `invalid_host`: the `Host` header is missing (HTTP/1.1) or malformed. */
export class InvalidHostError extends LatchkeyError {
  override readonly name = 'InvalidHostError';
  constructor() {
    super('invalid_host', 'missing or malformed Host header', 400);
  }
}

/** 421 `host_not_allowed`: the `Host` names none of this server's names. */
export class HostNotAllowedError extends LatchkeyError {
  override readonly name = 'HostNotAllowedError';
  constructor(hostname: string) {
    const shown = hostname.length > 64 ? `${hostname.slice(0, 64)}…` : hostname;
    super(
      'host_not_allowed',
      `Host ${shown} is not a name of this server: add it to security.allowedHosts (LATCHKEY_SECURITY_ALLOWED_HOSTS)`,
      421,
    );
  }
}

/** The host name of an URL (lower case, IPv6 in brackets), or `undefined` if it is none. */
function hostnameOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.replace(/\.$/, '');
  } catch {
    return undefined;
  }
}

/**
 * Which host names requests may name. DNS rebinding needs a domain name (a page of
 * `evil.example` whose name the attacker re-resolves to this server is same-origin with itself,
 * and its `Host` says `evil.example`), so always allowed are: IP literals, `localhost` and
 * `*.localhost` (browsers resolve these themselves, RFC 6761), the host names of the configured
 * public URLs (`ims.publicUrl`, and `publicUrls`: the IMS's recorded one) and of
 * `security.allowedOrigins`; besides them, `security.allowedHosts` (`name`, `*.domain`, `*`).
 */
export function hostAllowList(
  config: Config,
  publicUrls: () => readonly string[] = () => [],
): (hostname: string) => boolean {
  const entries = config.security.allowedHosts;
  if (entries.includes('*')) return () => true;
  const names = new Set<string>(['localhost']);
  const suffixes = ['.localhost'];
  for (const e of entries) {
    if (e.startsWith('*.')) suffixes.push(e.slice(1));
    else names.add(e);
  }
  for (const url of [
    ...(config.ims.publicUrl ? [config.ims.publicUrl] : []),
    ...config.security.allowedOrigins,
  ]) {
    const name = hostnameOf(url);
    if (name) names.add(name);
  }
  // The public URL may change while the process runs: its name is read again when it does.
  let lastUrls = '';
  let dynamic = new Set<string>();
  return (hostname) => {
    const name = hostname.toLowerCase().replace(/\.$/, '');
    if (name.startsWith('[') || isIP(name) !== 0) return true;
    if (names.has(name) || suffixes.some((s) => name.endsWith(s))) return true;
    const urls = publicUrls();
    if (urls.join(' ') !== lastUrls) {
      lastUrls = urls.join(' ');
      dynamic = new Set(urls.map(hostnameOf).filter((n): n is string => n !== undefined));
    }
    return dynamic.has(name);
  };
}

/**
 * First hook of every app: a request whose `Host` is malformed (or missing, but for HTTP/1.0,
 * which may omit it) is refused before anything reads it, so that no route, origin check or
 * page ever builds a URL from it; one that names a host not on {@link hostAllowList} is refused
 * before anything answers it (no content, no credential check that counts against an address).
 */
export function checkHost(
  allowed: (hostname: string) => boolean,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request) => {
    if (request.headers.host === undefined && request.raw.httpVersion === '1.0') return;
    const host = hostOf(request);
    if (host === undefined) throw new InvalidHostError();
    const hostname = new URL(`http://${host}`).hostname;
    if (allowed(hostname)) return;
    // Logged (a few lines a minute at most): a proxy that sends its own name shows up here.
    request.server.warnings.write(
      request.log,
      `host ${request.ip}`,
      { host: clipForLog(hostname, 64), address: request.ip },
      'Host not allowed',
    );
    throw new HostNotAllowedError(hostname);
  };
}
