import { ForbiddenError, UnauthorizedError } from '../errors.js';
import type { Subject } from './subject.js';

/** Throws unless `subject` is an administrator (401 for anonymous, 403 otherwise). */
export function requireAdmin(subject: Subject, what: string): void {
  if (subject.admin) return;
  if (subject.anonymous) throw new UnauthorizedError(`${what} requires an administrator`);
  throw new ForbiddenError(`${what} requires an administrator`);
}
