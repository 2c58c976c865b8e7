import { decodeToken } from '../../access-token/decode.js';
import type { AccessClaims } from '../../access-token/types.js';
import { verifyAccessToken } from '../../access-token/verify.js';
import { LatchkeyError } from '../../errors.js';
import {
  DEV_CONSOLE_CLIENT_PREFIX,
  isTechnicalAccountId,
  TECHNICAL_ACCOUNT_DOMAIN,
} from '../../ims/technical-account.js';
import { tokenValidations, watchCache } from '../../metrics/registry.js';
import type { RepositoryContext } from '../../repository/context.js';
import { subjectFor } from '../../repository/users/subject-for.js';
import { sessionRefusal, type UserStatusCache } from '../../repository/users/user-status.js';
import type { AuthHandler } from '../authenticate.js';
import { type ImsFailureKind, ImsUnreachableError } from './ims-connection.js';
import type { JwksCache } from './jwks-cache.js';
import type { RevocationPoller } from './revocations.js';
import { ensureServiceUser, TECHNICAL_ACCOUNTS_GROUP } from './service-user.js';

export interface BearerServices {
  readonly ctx: RepositoryContext;
  /** `undefined`: this instance has no IMS and refuses bearer tokens. */
  readonly jwks: JwksCache | undefined;
  readonly environment: string;
  readonly users: UserStatusCache;
  readonly revocations: RevocationPoller | undefined;
}

/**
 * 503: the token names a key this instance does not know, and the IMS that would publish it
 * cannot be reached: not the client's fault, and worth retrying. The cause (refused, timeout,
 * untrusted certificate…) is in the message, which the error mapper logs.
 */
function imsUnavailable(err: ImsUnreachableError, jwks: JwksCache): LatchkeyError {
  return new LatchkeyError(
    'ims_unavailable',
    `the IMS cannot be reached to look up the key of this access token: ${err.message}`,
    503,
    { 'retry-after': String(Math.max(1, Math.ceil(jwks.retryInMs() / 1000))) },
  );
}

/** Failures that mean the IMS could not be reached at all (not an answer of the IMS). */
const NETWORK_FAILURES: ReadonlySet<ImsFailureKind> = new Set([
  'untrusted_certificate',
  'refused',
  'timeout',
  'unknown_host',
  'not_https',
  'connection_failed',
]);

/** Why the IMS cannot be reached now, if a pull of its revocation list failed after `since`. */
function unreachableSince(
  revocations: RevocationPoller | undefined,
  since: number,
): ImsUnreachableError | undefined {
  const failure = revocations?.failure;
  const at = revocations?.failedAt;
  if (!failure || at === undefined || at < since) return undefined;
  return NETWORK_FAILURES.has(failure.kind) ? failure : undefined;
}

function refused(reason: string): LatchkeyError {
  return new LatchkeyError('invalid_token', reason, 401, {
    'www-authenticate': 'Bearer error="invalid_token"',
  });
}

/**
 * `Authorization: Bearer <IMS access token>`: verified offline against the IMS's published keys,
 * checked for expiry and for this instance's environment, and mapped to a repository user (a
 * technical account to its service user; a user token to the existing user of that id).
 * Verified tokens are cached until they expire.
 */
export function bearerHandler(services: BearerServices): AuthHandler {
  const verified = new Map<string, AccessClaims>();
  const stats = { hits: 0, misses: 0 };
  watchCache('bearer', stats);
  /** Technical accounts whose memberships were re-read, with the access generation then. */
  const reread = new Map<string, number>();

  const authenticate = async (token: string) => {
    const now = Date.now();
    let claims = verified.get(token);
    if (claims && claims.expiresAt > now) stats.hits++;
    else stats.misses++;
    if (!claims || claims.expiresAt <= now) {
      if (!services.jwks)
        throw refused('this instance accepts no bearer tokens (it has no IMS configured)');
      const decoded = decodeToken(token);
      if (!decoded) throw refused('malformed access token');
      const key = await services.jwks.get(decoded.kid).catch((err: unknown) => {
        throw err instanceof ImsUnreachableError ? imsUnavailable(err, services.jwks!) : err;
      });
      if (!key) {
        // The keys were read less than a refetch interval ago, but the IMS has not been
        // reachable since (the revocation list's pull failed after): the key may be new.
        const down = unreachableSince(services.revocations, services.jwks.fetchedAt);
        if (down) throw imsUnavailable(down, services.jwks);
        throw refused(
          `access token signed with a key the IMS does not publish (${decoded.kid.slice(0, 40)})`,
        );
      }
      // The one verifier of access tokens (access-token/verify.ts), with the issuer the IMS's
      // JWKS names (known whenever a key is).
      const r = verifyAccessToken(decoded, () => key, {
        issuer: services.jwks.issuer ?? '',
        now,
      });
      if (!r.ok) throw refused(r.reason);
      claims = r.claims;
      if (verified.size >= 50_000) verified.clear();
      verified.set(token, claims);
    }
    // Checked on every request, cached tokens too: the cache never outlives a revocation.
    if (services.revocations?.isRevoked(claims)) throw refused('access token revoked');
    if (claims.environment !== services.environment) {
      throw refused(
        `access token is for environment ${claims.environment ?? '(none)'}, this instance is ${services.environment}`,
      );
    }
    // A technical account acts through its integration's tokens only: a development token
    // naming one (issued before the IMS refused them) would act as the integration's service
    // user, and outlive the integration's revocation.
    const technical = claims.userId.endsWith(TECHNICAL_ACCOUNT_DOMAIN);
    if (
      isTechnicalAccountId(claims.userId) &&
      claims.clientId.startsWith(DEV_CONSOLE_CLIENT_PREFIX)
    )
      throw refused('a development token cannot act as a technical account');
    // The cached status first: a technical account's service user is created (a store read and
    // write) only when it is missing, not looked up on every request.
    let state = await services.users.status(claims.userId, now);
    if (state.status === 'missing' && technical) {
      await ensureServiceUser(services.ctx, claims.userId);
      state = await services.users.status(claims.userId, now);
    }
    // A user token issued before the user's password changed (or the user was disabled,
    // re-created or logged out) is refused like a login token.
    const refusal = sessionRefusal(claims.userId, state, claims.createdAt);
    if (refusal) throw refused(refusal);
    let subject = await subjectFor(services.ctx, claims.userId);
    // A service user another process created a moment ago may be missing from this process's
    // memberships while that process's change event is on its way: re-read them once (per
    // change seen here), rather than answer 404 to a valid token for a while.
    if (
      technical &&
      !subject.principals.has(TECHNICAL_ACCOUNTS_GROUP) &&
      reread.get(claims.userId) !== services.ctx.access.generation
    ) {
      services.ctx.access.drop();
      if (reread.size >= 10_000) reread.clear();
      reread.set(claims.userId, services.ctx.access.generation);
      subject = await subjectFor(services.ctx, claims.userId);
    }
    return { subject, byHeader: true };
  };

  return ({ authorization }) => {
    if (!authorization || !/^bearer /i.test(authorization)) return undefined;
    return authenticate(authorization.slice(7).trim()).then(
      (result) => {
        tokenValidations.inc({ kind: 'bearer', outcome: 'valid' });
        return result;
      },
      (err: unknown) => {
        tokenValidations.inc({ kind: 'bearer', outcome: 'refused' });
        throw err;
      },
    );
  };
}
