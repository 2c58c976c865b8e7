import type { ImsConnection } from '../auth/bearer/ims-connection.js';
import type { JwksCache } from '../auth/bearer/jwks-cache.js';
import type { RevocationPoller } from '../auth/bearer/revocations.js';
import type { HealthCheck, HealthResult } from './registry.js';

const IMS_FIX =
  'Make the IMS reachable from this instance at the --ims URL: start it, check the URL and the network, and on HTTPS that this instance trusts its certificate (NODE_EXTRA_CA_CERTS). The instance recovers by itself once the IMS answers.';

/**
 * Whether the IMS an instance accepts tokens from (`ims.url`) answers now: its signing keys
 * (`/ims/keys`) and its revocation list (`/ims/revocations`), and when not, why (certificate not
 * trusted, connection refused, no answer in time…). Red when the instance never obtained the
 * IMS's keys (no bearer token can be accepted); yellow when it has keys from earlier (tokens
 * signed with them are still accepted, a new key is answered 503 `ims_unavailable`), or when
 * only the revocation list cannot be read (revocations since the last list are not seen).
 */
export function imsCheck(
  conn: ImsConnection,
  jwks: JwksCache,
  revocations: RevocationPoller | undefined,
): HealthCheck {
  // Requests for health that arrive together share one look at the IMS: an open endpoint never
  // turns a burst into as many requests to the IMS.
  let inFlight: Promise<HealthResult> | undefined;
  const look = async (): Promise<HealthResult> => {
    const [keys, list] = await Promise.allSettled([
      conn.getJson('/ims/keys'),
      conn.getJson('/ims/revocations'),
    ]);
    const problems: string[] = [];
    let published = 0;
    if (keys.status === 'fulfilled') {
      const found = (keys.value as { keys?: unknown[] } | null)?.keys;
      published = Array.isArray(found) ? found.length : 0;
      if (published === 0) problems.push(`keys: ${conn.url}/ims/keys publishes no key`);
    } else problems.push(`keys: ${(keys.reason as Error).message}`);
    if (list.status === 'rejected') {
      const last = revocations?.lastSuccess;
      problems.push(
        `revocation list: ${(list.reason as Error).message}${last ? ` (the list in use is from ${new Date(last).toISOString()})` : ' (no list obtained yet)'}`,
      );
    }
    if (problems.length === 0) {
      return {
        status: 'green',
        message: `${conn.url}: ${published} signing key(s) published, revocation list reachable`,
      };
    }
    if (keys.status === 'fulfilled' && published > 0) {
      // Only the revocation list is missing: tokens are verified, revocations not refreshed.
      return {
        status: 'yellow',
        message: `${problems.join('; ')}. Tokens revoked since then are still accepted here`,
        fix: IMS_FIX,
      };
    }
    const known = jwks.size;
    return {
      status: known === 0 ? 'red' : 'yellow',
      message: `${problems.join('; ')}. ${known === 0 ? 'No IMS key known: no bearer token can be accepted (503 ims_unavailable)' : `${known} IMS key(s) known from earlier: tokens signed with them are accepted, others get 503 ims_unavailable`}`,
      fix: IMS_FIX,
    };
  };
  return {
    name: 'ims',
    run() {
      inFlight ??= look().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
  };
}
