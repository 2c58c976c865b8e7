import { isCanonicalBase64 } from '../crypto/base64url.js';
import { UnauthorizedError } from '../errors.js';

/**
 * Parses `Authorization: Basic base64(user:password)`. Returns `undefined` when the header is
 * absent or another scheme; throws 401 when it is Basic but malformed.
 */
export function parseBasic(
  header: string | undefined,
): { user: string; password: string } | undefined {
  if (!header || !/^basic /i.test(header)) return undefined;
  const encoded = header.slice(6).trim();
  if (encoded === '' || encoded.length > 4096 || !isCanonicalBase64(encoded)) {
    throw new UnauthorizedError('malformed Basic credentials');
  }
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new UnauthorizedError('malformed Basic credentials');
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
