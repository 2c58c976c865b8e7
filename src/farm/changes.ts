import type { ChangeEvent, Store } from '../store/types.js';

/**
 * The change events latchkey publishes on its store (see guarantee 5 of `store/types.ts`), so that
 * every process sharing the store drops what it cached within a second instead of waiting for a
 * time to live. The key says which record changed (for the log and metrics); subscribers drop
 * the whole cache of the kind, which is always correct.
 */
export const CHANGE = {
  /** Users, groups, memberships, ACLs, sessions ended: key = the user, group or node path. */
  access: 'access',
  /** A stateful login token removed (logout, retired beyond `tokens.maxPerUser`): key = the user. */
  loginTokens: 'login-tokens',
  /** The token handler's configuration (PID `…TokenAuthenticationHandler`). */
  tokenSettings: 'token-settings',
  /** An IMS revocation: key = `jti:…`, `client:…` or `user:…`. */
  revocation: 'revocation',
  /** The master/hmac keys were rotated, imported or moved. */
  keys: 'keys',
  /** An IMS integration was revoked or its certificates changed: key = the client id. */
  integration: 'ims-integration',
  /** The IMS's access-token signing keys (a rotation). */
  signingKeys: 'ims-signing-keys',
} as const;

/** Called when publishing fails (the store is down): the caches' time to live still bounds staleness. */
let onPublishError: (err: unknown, event: ChangeEvent) => void = () => {};

export function setPublishErrorHandler(handler: (err: unknown, event: ChangeEvent) => void) {
  onPublishError = handler;
}

/**
 * Publishes a change event after a committed write. Never throws: the write happened, and a lost
 * event only means other processes notice at their caches' next expiry (or the next poll).
 */
export async function announce(store: Store, kind: string, key = ''): Promise<void> {
  try {
    await store.publish({ kind, key });
  } catch (err) {
    onPublishError(err, { kind, key });
  }
}
