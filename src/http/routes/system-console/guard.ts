import type { FastifyRequest } from 'fastify';
import { UnauthorizedError } from '../../../errors.js';
import { requireAdmin } from '../../../repository/require-admin.js';
import type { Subject } from '../../../repository/subject.js';

export const MOUNT = '/system/console';
export const SIGN_IN_PATH = `${MOUNT}/login`;

/**
 * The signed-in subject of a console request. Anonymous requests, and those whose login token
 * was refused (expired, ended), are sent to the sign-in page (the console's error page turns the
 * 401 into a redirect).
 */
export function signedIn(request: FastifyRequest): Subject {
  if (request.authRefusal || request.subject.anonymous)
    throw new UnauthorizedError('sign in to use the System Console');
  return request.subject;
}

/** {@link signedIn}, and an administrator (403 page otherwise). */
export function administrator(request: FastifyRequest, what: string): Subject {
  const subject = signedIn(request);
  requireAdmin(subject, what);
  return subject;
}
