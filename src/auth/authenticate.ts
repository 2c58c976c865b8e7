import { UnauthorizedError } from '../errors.js';
import type { RepositoryContext } from '../repository/context.js';
import { ANONYMOUS, type Subject } from '../repository/subject.js';
import { authenticatePassword } from '../repository/users/authenticate-password.js';
import { subjectFor } from '../repository/users/subject-for.js';
import { parseBasic } from './basic.js';
import { type CredentialThrottle, throttledCheck } from './throttle.js';
import type { VerifiedPasswords } from './verified-passwords.js';

/** What an authentication handler sees of a request. */
export interface Credentials {
  readonly authorization: string | undefined;
  readonly cookie: string | undefined;
  readonly remoteAddress: string;
}

/** A successful authentication, and a cookie to set on the response (a renewed token). */
export interface Authenticated {
  readonly subject: Subject;
  readonly setCookie?: string | undefined;
  /**
   * Whether the `Authorization` header authenticated the request (Basic, Bearer), so that no
   * cookie was used: only then is a write exempt from the CSRF token (see http/csrf.ts). A header
   * of another scheme (or garbage) authenticates nothing, and a cookie sent with it still counts.
   */
  readonly byHeader?: boolean;
}

/**
 * One way of authenticating: returns the subject when the request carries its kind of
 * credentials and they are valid, `undefined` when it carries none of its kind, and throws
 * (401) when they are present but invalid.
 */
export type AuthHandler = (
  credentials: Credentials,
) => Authenticated | undefined | Promise<Authenticated | undefined>;

/**
 * HTTP Basic against repository users (as `curl -u admin:…` against AEM), throttled like the
 * login form: every Basic request is a password guess an attacker gets for free otherwise.
 * Credentials verified a moment ago (`verified`) are accepted again without the password hash;
 * anything else (a wrong password, an unknown user) takes the full check, which costs the same
 * for known and unknown users.
 */
export function basicHandler(
  ctx: RepositoryContext,
  throttle: CredentialThrottle,
  verified?: VerifiedPasswords,
): AuthHandler {
  return ({ authorization, remoteAddress }) => {
    const basic = parseBasic(authorization);
    if (!basic) return undefined; // synchronously: most requests carry no Basic credentials
    const key = verified?.keyOf(basic.user, basic.password);
    const check = () =>
      throttledCheck(throttle, 'basic', basic.user, remoteAddress, () =>
        authenticatePassword(ctx, basic.user, basic.password),
      );
    if (!verified || !key) return check().then(accepted);
    // One full check for these credentials at a time; a success is kept.
    const verify = () =>
      verified.once(key, async () => {
        // Taken before the user is read: a change committed meanwhile keeps this out.
        const ticket = verified.ticket();
        const subject = await check();
        if (subject) verified.remember(key, ticket);
        return subject;
      });
    const known = verified.lookup(key);
    if (known === 'miss') return verify().then(accepted);
    // Near the end of the entry's life: verified again in the background (the password hash,
    // from scratch), so that the entry never outlives a check and nobody waits for one.
    if (known === 'renew')
      verify().then(
        (subject) => subject || verified.forget(key), // the password changed meanwhile
        () => {}, // not checked (hashing busy, store down): the entry expires as it would
      );
    // Still through the throttle: an address locked out is refused even the right password,
    // as without the cache; the hash is all that is saved.
    return throttledCheck(throttle, 'basic', basic.user, remoteAddress, () =>
      subjectFor(ctx, basic.user),
    ).then(accepted);
  };
}

function accepted(subject: Subject | undefined): Authenticated {
  if (!subject) throw new UnauthorizedError('invalid user name or password');
  return { subject, byHeader: true };
}

/**
 * Builds the request authenticator from handlers tried in order; a request with no credentials
 * of any kind is anonymous (whether anonymous may do anything is the routes' and ACLs' call).
 */
export function createAuthenticator(handlers: readonly AuthHandler[]) {
  return async (credentials: Credentials): Promise<Authenticated> => {
    for (const handler of handlers) {
      const pending = handler(credentials);
      const result = pending instanceof Promise ? await pending : pending;
      if (result) return result;
    }
    return { subject: ANONYMOUS };
  };
}
