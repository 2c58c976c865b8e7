import { isIP } from 'node:net';
import { LatchkeyError } from '../errors.js';

/**
 * The `--to` URLs of `latchkey keys push` and `latchkey farm rotate-hmac`: each an instance's
 * base URL. Keys travel only over HTTPS, except to this very host (a loopback address or
 * `localhost`), where they never reach a network. A URL names the instance's root: no path. Credentials never go in a URL (the command line
 * is visible to every local user in the process list): a URL with a user or password is refused.
 */
export function parseTargets(urls: readonly string[]): string[] {
  if (urls.length === 0)
    throw new LatchkeyError('invalid_request', 'give at least one instance with --to URL', 400);
  const out: string[] = [];
  for (const raw of urls) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new LatchkeyError('invalid_request', `--to ${clip(raw)} is not a URL`, 400);
    }
    if (url.username || url.password)
      throw new LatchkeyError(
        'invalid_request',
        `--to ${url.protocol}//…@${url.host}: credentials never go in a URL (the process list shows it); use --user and the password prompt, stdin or LATCHKEY_FARM_PASSWORD`,
        400,
      );
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new LatchkeyError('invalid_request', `--to ${clip(raw)}: use an https:// URL`, 400);
    if (url.protocol === 'http:' && !isLoopback(url.hostname))
      throw new LatchkeyError(
        'invalid_request',
        `--to ${url.origin}: keys and passwords travel only over HTTPS (plain http only to this host)`,
        400,
      );
    if (url.search || url.hash)
      throw new LatchkeyError('invalid_request', `--to ${url.origin}: no query or fragment`, 400);
    // The instance's root only: below a path, the keys API's address would name a repository
    // node, and a content write there would store the keys where readers of /content see them.
    if (url.pathname !== '/')
      throw new LatchkeyError(
        'invalid_request',
        `--to ${clip(raw)}: give the instance's address without a path (${url.origin})`,
        400,
      );
    const base = url.origin;
    if (!out.includes(base)) out.push(base);
  }
  return out;
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

function clip(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}
