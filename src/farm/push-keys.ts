import { type AdminCredentials, callAdmin } from './admin-client.js';

/** The keys an instance reports in use (`GET /system/console/crypto/keys.json`). */
export interface InstanceKeys {
  readonly master: { readonly primary: string; readonly versions: readonly string[] };
  readonly hmac: { readonly primary: string; readonly versions: readonly string[] };
}

/** One instance's outcome: the keys it now uses, or why not. */
export type InstanceResult =
  | { readonly url: string; readonly ok: true; readonly master: string; readonly hmac: string }
  | { readonly url: string; readonly ok: false; readonly error: string; readonly message: string };

export const KEYS_PATH = '/system/console/crypto/keys';

export function isInstanceKeys(body: unknown): body is InstanceKeys {
  const b = body as InstanceKeys | undefined;
  return (
    typeof b?.master?.primary === 'string' &&
    Array.isArray(b.master.versions) &&
    typeof b.hmac?.primary === 'string' &&
    Array.isArray(b.hmac.versions)
  );
}

/**
 * Sends one bundle to every instance at once (`POST /system/console/crypto/keys`, mode primary),
 * and checks each answer: the instance must now use the bundle's primaries and hold every one of
 * its keys, or its result says what differs. One result per instance, in the order given; a
 * failure at one instance does not stop the others.
 */
export async function pushKeys(
  targets: readonly string[],
  bundle: string,
  expected: { master: readonly string[]; hmac: readonly string[] },
  credentials: AdminCredentials,
): Promise<InstanceResult[]> {
  return Promise.all(
    targets.map(async (url): Promise<InstanceResult> => {
      const answer = await callAdmin(url, KEYS_PATH, credentials, { bundle, mode: 'primary' });
      if (!answer.ok) return { url, ...answer };
      if (!isInstanceKeys(answer.body))
        return { url, ok: false, error: 'bad_answer', message: 'the instance answered no keys' };
      const k = answer.body;
      const missing = [
        ...expected.master.filter((id) => !k.master.versions.includes(id)),
        ...expected.hmac.filter((id) => !k.hmac.versions.includes(id)),
      ];
      if (
        k.master.primary !== expected.master[0] ||
        k.hmac.primary !== expected.hmac[0] ||
        missing.length
      )
        return {
          url,
          ok: false,
          error: 'not_verified',
          message: `the instance uses master ${k.master.primary}, hmac ${k.hmac.primary}${missing.length ? ` and lacks ${missing.join(', ')}` : ''}`,
        };
      return { url, ok: true, master: k.master.primary, hmac: k.hmac.primary };
    }),
  );
}
