import { audit } from '../audit/record.js';
import type { Subject } from '../repository/subject.js';
import { clearedTokenCookie } from './tokens/cookie.js';
import { ENCAPSULATED_PREFIX } from './tokens/encapsulated.js';
import type { TokenServices } from './tokens/handler.js';
import { revokeStateful, verifyStateful } from './tokens/stateful.js';

/**
 * Logout: a stateful token is removed from the store (an encapsulated one lives only in the
 * client: clearing the cookie is all there is). `subject` is who the request was authenticated
 * as. Returns the `Set-Cookie` value that clears the cookie.
 */
export async function signOut(
  tokens: TokenServices,
  token: string | undefined,
  subject: Subject,
  address: string,
): Promise<string> {
  if (token) {
    const r = await verifyStateful(tokens.ctx, token, Date.now(), address, tokens.statefulTokens);
    if (r.ok) await revokeStateful(tokens.ctx, token, tokens.statefulTokens);
  }
  if (!subject.anonymous && token) {
    await audit({
      type: 'logout',
      actor: subject.userId,
      details: { kind: token.startsWith(ENCAPSULATED_PREFIX) ? 'encapsulated' : 'stateful' },
    });
  }
  const settings = await tokens.settings.get();
  return clearedTokenCookie({ sameSite: settings.sameSite, secure: tokens.secure });
}
