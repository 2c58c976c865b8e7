import { encodeBundle } from '../crypto/bundle.js';
import { generateKeyVersion } from '../crypto/keyring.js';
import { type AdminCredentials, callAdmin } from './admin-client.js';
import { type InstanceKeys, isInstanceKeys, KEYS_PATH } from './push-keys.js';

/** What {@link rotateHmac} reports as it goes (the command prints each at once). */
export type RotationProgress =
  | { readonly step: 'key'; readonly id: string; readonly resumed: boolean }
  | { readonly step: 'phase'; readonly phase: 'distribute' | 'check' | 'activate' }
  | {
      readonly step: 'instance';
      readonly phase: 'distribute' | 'check' | 'activate';
      readonly url: string;
      readonly ok: boolean;
      readonly error?: string;
      readonly message?: string;
      /** activate: the primary before. */
      readonly previous?: string;
    };

export interface RotationResult {
  readonly id: string;
  /** `done`: every instance signs with the key; `not_distributed`: none does (phase 1 failed);
   * `partly_activated`: some do, the others verify it (phase 2 failed somewhere: run again with
   * the id). */
  readonly outcome: 'done' | 'not_distributed' | 'partly_activated';
  readonly instances: readonly {
    url: string;
    ok: boolean;
    error?: string;
    message?: string;
    previous?: string;
  }[];
}

/**
 * Rotates the hmac key of a whole farm without logging anyone out, in two phases:
 * 1. distribute: a new key (made here, in memory only) goes to every instance as a verify-only
 *    version (`POST /system/console/crypto/keys`, mode verify-only): each verifies tokens signed
 *    with it, none signs with it. If any instance did not take it, the rotation stops here: no
 *    instance signs with the new key, and nobody notices anything;
 * 2. activate: only then, every instance makes it primary (`…/keys/activate`). The previous key
 *    stays as an older version on each, so tokens signed with it keep verifying until they expire.
 * Between the phases and during the second, a token signed by an instance already switched is
 * accepted by every other instance, because all of them hold the key since phase 1.
 *
 * With `resume` (the id of a key distributed before), phase 1 becomes a check that every instance
 * holds that key; activation happens only if they all do.
 */
export async function rotateHmac(
  targets: readonly string[],
  credentials: AdminCredentials,
  onProgress: (p: RotationProgress) => void,
  resume?: string,
): Promise<RotationResult> {
  let id: string;
  if (resume === undefined) {
    const key = generateKeyVersion('hmac');
    id = key.id;
    onProgress({ step: 'key', id, resumed: false });
    const bundle = await encodeBundle({
      keys: { master: [], hmac: [key.material] },
      aemMaster: undefined,
    });
    onProgress({ step: 'phase', phase: 'distribute' });
    const results = await each(targets, 'distribute', onProgress, async (url) => {
      const a = await callAdmin(url, KEYS_PATH, credentials, { bundle, mode: 'verify-only' });
      return holds(a, id, false);
    });
    if (results.some((r) => !r.ok)) return { id, outcome: 'not_distributed', instances: results };
  } else {
    id = resume;
    onProgress({ step: 'key', id, resumed: true });
    onProgress({ step: 'phase', phase: 'check' });
    const results = await each(targets, 'check', onProgress, async (url) =>
      holds(await callAdmin(url, `${KEYS_PATH}.json`, credentials), id, true),
    );
    if (results.some((r) => !r.ok)) return { id, outcome: 'not_distributed', instances: results };
  }
  onProgress({ step: 'phase', phase: 'activate' });
  const results = await each(targets, 'activate', onProgress, async (url) => {
    const before = await callAdmin(url, `${KEYS_PATH}.json`, credentials);
    const previous =
      before.ok && isInstanceKeys(before.body) ? before.body.hmac.primary : undefined;
    const a = await callAdmin(url, `${KEYS_PATH}/activate`, credentials, { kind: 'hmac', id });
    if (!a.ok) return a;
    if (!isInstanceKeys(a.body) || a.body.hmac.primary !== id)
      return { ok: false, error: 'not_verified', message: 'the instance does not sign with it' };
    return { ok: true, ...(previous && previous !== id ? { previous } : {}) };
  });
  return {
    id,
    outcome: results.every((r) => r.ok) ? 'done' : 'partly_activated',
    instances: results,
  };
}

type Step = { ok: boolean; error?: string; message?: string; previous?: string };

/** Runs one phase on every instance at once; reports each as it ends. */
async function each(
  targets: readonly string[],
  phase: 'distribute' | 'check' | 'activate',
  onProgress: (p: RotationProgress) => void,
  run: (url: string) => Promise<Step>,
): Promise<(Step & { url: string })[]> {
  return Promise.all(
    targets.map(async (url) => {
      const r = { url, ...(await run(url)) };
      onProgress({ step: 'instance', phase, ...r });
      return r;
    }),
  );
}

/** The answer lists `id` among the hmac versions (and, unless `primaryOk`, not as primary). */
function holds(
  a: { ok: true; body: unknown } | { ok: false; error: string; message: string },
  id: string,
  primaryOk: boolean,
): Step {
  if (!a.ok) return a;
  const k = a.body as InstanceKeys;
  if (!isInstanceKeys(k))
    return { ok: false, error: 'bad_answer', message: 'the instance answered no keys' };
  if (!k.hmac.versions.includes(id))
    return { ok: false, error: 'not_verified', message: `the instance does not hold hmac ${id}` };
  if (!primaryOk && k.hmac.primary === id)
    return { ok: false, error: 'not_verified', message: 'the instance signs with it already' };
  return { ok: true };
}
