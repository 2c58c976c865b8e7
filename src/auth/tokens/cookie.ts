import type { SameSite } from './settings.js';

export const TOKEN_COOKIE = 'login-token';

/** The value of cookie `name` in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The login-token cookie: HttpOnly, Path=/, the configured SameSite; Secure on HTTPS, when
 * configured, and always with SameSite=None (browsers refuse None without it). A session
 * cookie: the token's own expiry decides how long it is good for.
 */
export function tokenCookie(
  value: string,
  options: { sameSite: SameSite; secure: boolean },
): string {
  const secure = options.secure || options.sameSite === 'None';
  return `${TOKEN_COOKIE}=${value}; Path=/; HttpOnly; SameSite=${options.sameSite}${secure ? '; Secure' : ''}`;
}

export function clearedTokenCookie(options: { sameSite: SameSite; secure: boolean }): string {
  return `${tokenCookie('', options)}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`;
}
