import { audit } from '../audit/record.js';
import { LatchkeyError } from '../errors.js';
import { logins } from '../metrics/registry.js';
import type { Subject } from '../repository/subject.js';
import { authenticatePassword } from '../repository/users/authenticate-password.js';
import { type CredentialThrottle, ThrottledError, throttledCheck } from './throttle.js';
import { issueToken, type TokenServices } from './tokens/handler.js';

/** 403: the user name or password is wrong (also for a disabled or unknown user). */
export class InvalidCredentialsError extends LatchkeyError {
  override readonly name = 'InvalidCredentialsError';
  constructor() {
    super('invalid_credentials', 'invalid user name or password', 403);
  }
}

/**
 * Signs a user in with a password, as the login form does (`POST /j_security_check`, the System
 * Console's sign-in page): the check is throttled, and on success a login token of the
 * configured kind is issued; both are in the audit log. Returns the subject and the `Set-Cookie` header value.
 *
 * @example
 * ```ts
 * const { setCookie } = await signIn(tokens, throttle, { user, password, address: request.ip });
 * reply.header('set-cookie', setCookie);
 * ```
 */
export async function signIn(
  tokens: TokenServices,
  throttle: CredentialThrottle,
  attempt: { user: string; password: string; address: string },
): Promise<{ subject: Subject; setCookie: string }> {
  if (attempt.user === '' || attempt.password === '') {
    throw new LatchkeyError('invalid_request', 'j_username and j_password are required', 400);
  }
  const subject = await throttledCheck(throttle, 'login', attempt.user, attempt.address, () =>
    authenticatePassword(tokens.ctx, attempt.user, attempt.password),
  ).catch((err: unknown) => {
    logins.inc({ outcome: err instanceof ThrottledError ? 'throttled' : 'error' });
    throw err;
  });
  logins.inc({ outcome: subject ? 'success' : 'failure' });
  if (!subject) throw new InvalidCredentialsError();
  await audit({ type: 'login', actor: subject.userId, details: { method: 'form' } });
  const settings = await tokens.settings.get();
  const setCookie = await issueToken(
    tokens,
    settings,
    subject.userId,
    Date.now(),
    tokens.bindAddress ? attempt.address : undefined,
  );
  return { subject, setCookie };
}
