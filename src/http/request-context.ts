import type { FastifyRequest } from 'fastify';
import { type LatchkeyError, UnauthorizedError } from '../errors.js';
import type { Subject } from '../repository/subject.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the request acts as; set by the authentication hook before any handler runs. */
    subject: Subject;
    /** A login-token this request presented and that was refused (repository access: 401). */
    authRefusal: LatchkeyError | null;
    /** Whether its Authorization header (Basic, Bearer) authenticated it, not a cookie. */
    authenticatedByHeader: boolean;
  }
}

/**
 * The request's subject for repository access: with anonymous access off (author default), an
 * unauthenticated request gets 401 and a Basic challenge.
 */
export function repositorySubject(request: FastifyRequest, anonymousAllowed: boolean): Subject {
  if (request.authRefusal) throw request.authRefusal;
  if (request.subject.anonymous && !anonymousAllowed) throw new UnauthorizedError();
  return request.subject;
}

/** The URL as logged: path and parameter names only (values may be secrets). */
export function safeUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const names = url
    .slice(q + 1)
    .split('&')
    .map((p) => p.split('=')[0])
    .filter(Boolean);
  return `${url.slice(0, q)}?${names.map((n) => `${n}=…`).join('&')}`;
}
