import { audit } from '../../audit/record.js';
import { TtlCache } from '../../cache/ttl-cache.js';
import type { KeyringHolder } from '../../crypto/holder.js';
import { LatchkeyError } from '../../errors.js';
import { tokenValidations } from '../../metrics/registry.js';
import type { RepositoryContext } from '../../repository/context.js';
import type { Subject } from '../../repository/subject.js';
import { peekSubject, subjectFor } from '../../repository/users/subject-for.js';
import { sessionRefusal, type UserStatusCache } from '../../repository/users/user-status.js';
import type { AuthHandler } from '../authenticate.js';
import { clearedTokenCookie, readCookie, TOKEN_COOKIE, tokenCookie } from './cookie.js';
import { ENCAPSULATED_PREFIX, issueEncapsulated, verifyEncapsulated } from './encapsulated.js';
import type { TokenSettings, TokenSettingsCache } from './settings.js';
import {
  extendStateful,
  issueStateful,
  peekStateful,
  STATEFUL_PREFIX,
  type StatefulTokenCache,
  verifyStateful,
} from './stateful.js';

export interface TokenServices {
  readonly ctx: RepositoryContext;
  readonly keys: KeyringHolder;
  readonly settings: TokenSettingsCache;
  readonly users: UserStatusCache;
  /** Stateful token nodes read from the store (see {@link StatefulTokenCache}). */
  readonly statefulTokens: StatefulTokenCache;
  readonly maxPerUser: number;
  /** Secure cookies (HTTPS, or configured). */
  readonly secure: boolean;
  /** Bind stateful tokens to the client address they were issued to. */
  readonly bindAddress: boolean;
}

/**
 * A login-token that was presented but refused. The request goes on as anonymous, its cookie is
 * cleared, and repository access answers 401 with this reason (which never contains the token).
 */
export class TokenRefusedError extends LatchkeyError {
  override readonly name = 'TokenRefusedError';
  constructor(reason: string, clearCookie: string) {
    super('invalid_token', `login-token refused: ${reason}`, 401, { 'set-cookie': clearCookie });
  }
}

/**
 * Issues a token of the configured kind (encapsulated or stateful) and its cookie. `renewal`: it
 * replaces a token past half of its life.
 */
export async function issueToken(
  services: TokenServices,
  settings: TokenSettings,
  userId: string,
  now: number,
  address: string | undefined,
  renewal = false,
): Promise<string> {
  const value = settings.encapsulated
    ? issueEncapsulated(services.keys.keyring, userId, now, settings.expirationMs)
    : await issueStateful(
        services.ctx,
        userId,
        {
          now,
          lifetimeMs: settings.expirationMs,
          maxPerUser: services.maxPerUser,
          ...(address ? { boundAddress: address } : {}),
        },
        services.statefulTokens,
      );
  await audit({
    type: 'token.issued',
    actor: userId,
    target: userId,
    details: {
      kind: 'login',
      format: settings.encapsulated ? 'encapsulated' : 'stateful',
      expiresAt: new Date(now + settings.expirationMs).toISOString(),
      ...(renewal ? { renewal: true } : {}),
    },
  });
  return tokenCookie(value, { sameSite: settings.sameSite, secure: services.secure });
}

interface VerifiedClaims {
  readonly userId: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/**
 * Encapsulated tokens already verified, until they expire. An entry is only good for the keyring
 * it was verified with: any key reload (rotation, import, refresh) starts afresh, so a removed key
 * stops its tokens at once. Users are checked on every request all the same.
 */
function verifiedTokens(keys: KeyringHolder): TtlCache<string, VerifiedClaims> {
  return new TtlCache({
    ttlMs: Number.POSITIVE_INFINITY, // each entry lives until its token expires
    max: 50_000,
    scope: () => keys.keyring,
  });
}

/**
 * Authenticates the `login-token` cookie. Both kinds are accepted whatever the configured mode,
 * so switching modes logs nobody out; past half of its life a token is renewed (a stateful one in
 * stateful mode slides its expiry; otherwise a new token of the configured kind is issued).
 */
export function tokenHandler(services: TokenServices): AuthHandler {
  const verified = verifiedTokens(services.keys);

  /** A known token: an encapsulated one verified before, a stateful one whose node is cached. */
  const known = (token: string, now: number, address: string): VerifiedClaims | undefined => {
    if (token.startsWith(ENCAPSULATED_PREFIX)) {
      const hit = verified.get(token);
      return hit && hit.expiresAt > now ? hit : undefined;
    }
    const r = peekStateful(services.statefulTokens, token, now, address);
    return r?.ok ? r : undefined;
  };

  /**
   * The common case without a single await: a known token, a known active user, fresh settings
   * and access data, and no renewal due. Anything else takes the full path.
   */
  const fast = (token: string, now: number, address: string) => {
    const settings = services.settings.peek();
    const hit = settings && known(token, now, address);
    if (!hit || now - hit.issuedAt >= (hit.expiresAt - hit.issuedAt) / 2) return undefined;
    const state = services.users.peek(hit.userId, now);
    if (!state || sessionRefusal(hit.userId, state, hit.issuedAt) !== undefined) return undefined;
    const subject = peekSubject(services.ctx, hit.userId);
    return subject ? { subject } : undefined;
  };

  const full = async (token: string, now: number, remoteAddress: string) => {
    const settings = await services.settings.get();
    const refuse = (reason: string): never => {
      throw new TokenRefusedError(
        reason,
        clearedTokenCookie({ sameSite: settings.sameSite, secure: services.secure }),
      );
    };
    let userId: string;
    let issuedAt: number;
    let expiresAt: number;
    let statefulPath: string | undefined;
    if (token.startsWith(ENCAPSULATED_PREFIX)) {
      const hit = verified.get(token);
      if (hit && hit.expiresAt > now) {
        ({ userId, issuedAt, expiresAt } = hit);
      } else {
        const ticket = verified.ticket();
        const r = verifyEncapsulated(services.keys.keyring, token, now);
        if (!r.ok) return refuse(r.reason);
        ({ userId, issuedAt, expiresAt } = r.claims);
        verified.set(token, r.claims, ticket, expiresAt - now);
      }
    } else if (token.startsWith(STATEFUL_PREFIX)) {
      const r = await verifyStateful(
        services.ctx,
        token,
        now,
        remoteAddress,
        services.statefulTokens,
      );
      if (!r.ok) return refuse(r.reason);
      ({ userId, issuedAt, expiresAt } = r);
      statefulPath = r.path;
    } else {
      return refuse('not a login-token latchkey issued');
    }
    const refusal = sessionRefusal(userId, await services.users.status(userId, now), issuedAt);
    if (refusal) return refuse(refusal);
    const subject: Subject = await subjectFor(services.ctx, userId);
    if (now - issuedAt < (expiresAt - issuedAt) / 2) return { subject };
    if (statefulPath && !settings.encapsulated) {
      await extendStateful(
        services.ctx,
        statefulPath,
        now,
        settings.expirationMs,
        services.statefulTokens,
      );
      return { subject };
    }
    return {
      subject,
      setCookie: await issueToken(services, settings, userId, now, undefined, true),
    };
  };

  return ({ cookie, remoteAddress }) => {
    const token = readCookie(cookie, TOKEN_COOKIE);
    if (!token) return undefined;
    const now = Date.now();
    const kind = token.startsWith(ENCAPSULATED_PREFIX) ? 'encapsulated' : 'stateful';
    const quick = fast(token, now, remoteAddress);
    if (quick) {
      tokenValidations.inc({ kind, outcome: 'valid' });
      return quick;
    }
    return full(token, now, remoteAddress).then(
      (result) => {
        tokenValidations.inc({ kind, outcome: 'valid' });
        return result;
      },
      (err: unknown) => {
        tokenValidations.inc({ kind, outcome: 'refused' });
        throw err;
      },
    );
  };
}
