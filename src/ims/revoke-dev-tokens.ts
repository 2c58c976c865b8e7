import { audit } from '../audit/record.js';
import type { Store } from '../store/types.js';
import { assertUserId, DEV_TOKEN_NS, type DevTokenRecord } from './dev-token.js';
import { ImsError } from './errors.js';
import { readRevocations, revokeTokenId, revokeUserTokens } from './revocation.js';

export interface ListedDevToken extends DevTokenRecord {
  readonly revoked: boolean;
}

/** The development tokens that have not expired, of one user or of all, oldest first. */
export async function listDevTokens(store: Store, userId?: string): Promise<ListedDevToken[]> {
  const records = await store.listRecords(DEV_TOKEN_NS, userId ? { prefix: `${userId}:` } : {});
  const revocations = await readRevocations(store);
  return records
    .map((r) => r.value as unknown as DevTokenRecord)
    .filter((t) => userId === undefined || t.user === userId)
    .map((t) => ({
      ...t,
      revoked:
        revocations.jtis.includes(t.jti) ||
        (Object.hasOwn(revocations.users, t.user) && t.issuedAt <= revocations.users[t.user]!),
    }))
    .sort((a, b) => a.issuedAt - b.issuedAt);
}

/**
 * Revokes one development token by its id (`jti`, as `latchkey token list` shows it), or every
 * token issued so far for a user. Refused at once by this IMS, by instances within their
 * revocation poll interval. Returns how many live tokens that covers. A user id that no IMS user
 * could have is refused (`invalid_request`), so that nothing else enters the revocation list.
 */
export async function revokeDevTokens(
  store: Store,
  target: { jti?: string | undefined; user?: string | undefined },
): Promise<{ revoked: number }> {
  if (
    (target.jti === undefined) === (target.user === undefined) ||
    target.jti === '' ||
    target.user === ''
  )
    throw new ImsError(
      'invalid_request',
      'name either jti (one token) or user (all of its tokens)',
    );
  if (target.user !== undefined) {
    // The user's cut-off goes into the revocation list every instance pulls: only a real id.
    assertUserId(target.user);
    const live = (await listDevTokens(store, target.user)).filter((t) => !t.revoked);
    await revokeUserTokens(store, target.user);
    await audit({
      type: 'token.revoked',
      target: target.user,
      details: { kind: 'dev', user: target.user, revoked: live.length },
    });
    return { revoked: live.length };
  }
  const token = (await listDevTokens(store)).find((t) => t.jti === target.jti);
  if (!token) throw new ImsError('not_found', 'no live development token with this id', 404);
  if (!token.revoked) {
    await revokeTokenId(store, token.jti, token.expiresAt);
    await audit({
      type: 'token.revoked',
      target: token.user,
      details: { kind: 'dev', jti: token.jti, revoked: 1 },
    });
  }
  return { revoked: token.revoked ? 0 : 1 };
}
