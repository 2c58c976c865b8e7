import { LatchkeyError } from '../errors.js';

/**
 * Repository paths: absolute, `/`-separated, no empty, `.` or `..` segment, no control character,
 * none of `\ [ ] | *` (JCR reserves the brackets, bar and star; a backslash is a classic traversal
 * disguise). Every path from a request goes through {@link decodeRequestPath} first.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const FORBIDDEN_IN_NAME = /[\u0000-\u001f\u007f\\[\]|*]/;

/** Half of a UTF-16 surrogate pair on its own: no UTF-8 text can carry it back. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Whether `text` survives storage and the way back (UTF-8) unchanged. */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

function invalidPath(message: string): LatchkeyError {
  return new LatchkeyError('invalid_path', message, 400);
}

/** Checks one path segment (a node or property name). */
export function isValidName(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= 255 &&
    name !== '.' &&
    name !== '..' &&
    !name.includes('/') &&
    !FORBIDDEN_IN_NAME.test(name) &&
    isWellFormed(name)
  );
}

/** Validates an already-decoded absolute path; returns it without a trailing slash. */
export function validatePath(path: string, maxLength: number): string {
  if (path.length > maxLength) {
    throw new LatchkeyError('path_too_long', `path longer than ${maxLength} characters`, 414);
  }
  if (!path.startsWith('/')) throw invalidPath('path must be absolute');
  if (path === '/') return path;
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  for (const segment of trimmed.slice(1).split('/')) {
    if (segment === '') throw invalidPath('path has an empty segment');
    if (segment === '.' || segment === '..') throw invalidPath('path has a . or .. segment');
    if (FORBIDDEN_IN_NAME.test(segment)) {
      throw invalidPath('path has a control character or one of \\ [ ] | *');
    }
    if (segment.length > 255) throw invalidPath('path has a segment longer than 255 characters');
    if (!isWellFormed(segment)) throw invalidPath('path has a malformed character');
  }
  return trimmed;
}

/**
 * Decodes the path part of a request URL (percent-encoding, once) and validates it. Double
 * encoding (`%252e%252e`) decodes to a literal `%2e%2e` name, which is harmless: only one decoding
 * pass ever happens, here.
 */
export function decodeRequestPath(rawUrl: string, maxLength: number): string {
  const q = rawUrl.indexOf('?');
  const raw = q === -1 ? rawUrl : rawUrl.slice(0, q);
  // Bound the work before decoding: decoding only shortens a string.
  if (raw.length > maxLength * 3) {
    throw new LatchkeyError('path_too_long', `path longer than ${maxLength} characters`, 414);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw invalidPath('path has malformed percent-encoding');
  }
  return validatePath(decoded, maxLength);
}

export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** `/` , `/a`, `/a/b` for `/a/b`: the path and its ancestors, root first. */
export function ancestorsAndSelf(path: string): string[] {
  const out = ['/'];
  if (path === '/') return out;
  for (let i = path.indexOf('/', 1); i !== -1; i = path.indexOf('/', i + 1))
    out.push(path.slice(0, i));
  out.push(path);
  return out;
}

export function isSameOrDescendant(path: string, ancestor: string): boolean {
  return (
    ancestor === '/' ||
    path === ancestor ||
    path.startsWith(ancestor.endsWith('/') ? ancestor : `${ancestor}/`)
  );
}
