import { audit } from '../audit/record.js';
import { ConfigError } from '../errors.js';
import type { StoreOps } from '../store/types.js';
import { ImsError } from './errors.js';
import { NS } from './model.js';

/**
 * Where a deployment's IMS is reached, and the names derived from it: every IMS process sharing a
 * store uses one, whatever address it listens on.
 *
 * - `url`: `https://ims.example:4510` (scheme, host, port; no path: Adobe's clients call
 *   `https://<imsEndpoint>/ims/…`)
 * - `imsEndpoint`: `ims.example:4510`, what service credentials name
 * - `issuer`: `https://ims.example:4510/ims`, the `iss` of every access token and the discovery
 *   documents' `issuer`
 */
export interface PublicUrl {
  readonly url: string;
  readonly imsEndpoint: string;
  readonly issuer: string;
}

const RECORD_KEY = 'publicUrl';

/** Checks and normalizes a public URL (`https://Host:443/` → `https://host`). */
export function parsePublicUrl(text: string): PublicUrl {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new ImsError('invalid_request', `not a URL: ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw new ImsError('invalid_request', `the IMS public URL must be http(s), got ${u.protocol}`);
  if (u.username || u.password || u.search || u.hash || (u.pathname !== '/' && u.pathname !== ''))
    throw new ImsError(
      'invalid_request',
      'the IMS public URL is scheme://host[:port] only (no path, query or credentials): clients call <url>/ims/…',
    );
  const url = `${u.protocol}//${u.host}`;
  return { url, imsEndpoint: u.host, issuer: `${url}/ims` };
}

/** The deployment's public URL as recorded in the store, if any. */
export async function readPublicUrl(store: StoreOps): Promise<PublicUrl | undefined> {
  const value = (await store.getRecord(NS.meta, RECORD_KEY))?.value;
  return typeof value === 'string' ? parsePublicUrl(value) : undefined;
}

/**
 * The public URL every IMS process (and CLI command) of a deployment uses: the one recorded in the
 * store; on a store that has none yet, `candidate` is recorded (insert-if-absent, so that among
 * processes starting together exactly one records its own and all use it).
 *
 * `explicit` says whether the candidate was configured (`ims.publicUrl`) rather than derived from
 * a listening address. A configured URL that differs from the recorded one is refused: moving a
 * deployment is `latchkey ims public-url URL`, never a side effect of which process starts last.
 * A derived one that differs is normal (another process listening elsewhere recorded it, or a load
 * balancer fronts them) and is reported in `differs`.
 */
export async function resolvePublicUrl(
  store: StoreOps,
  candidate: string,
  explicit: boolean,
): Promise<{ publicUrl: PublicUrl; recordedNow: boolean; differs: boolean }> {
  const wanted = parsePublicUrl(candidate);
  const recordedNow = await store.insertRecord(NS.meta, RECORD_KEY, wanted.url);
  const publicUrl = recordedNow ? wanted : await readPublicUrl(store);
  if (!publicUrl) throw new Error('the IMS public URL vanished from the store');
  const differs = publicUrl.url !== wanted.url;
  if (differs && explicit) {
    throw new ConfigError(
      'ims.publicUrl',
      `ims.publicUrl is ${wanted.url}, but this deployment's IMS public URL is ${publicUrl.url} (recorded in its store): every IMS process of a deployment issues tokens for one issuer. To move the deployment, run latchkey ims public-url ${wanted.url} and restart its IMS processes`,
    );
  }
  return { publicUrl, recordedNow, differs };
}

/**
 * Changes the deployment's public URL (`latchkey ims public-url URL`). IMS processes use it from
 * their next start; tokens issued before name the previous issuer.
 */
export async function setPublicUrl(
  store: StoreOps,
  url: string,
): Promise<{ previous: PublicUrl | undefined; current: PublicUrl }> {
  const current = parsePublicUrl(url);
  const previous = await readPublicUrl(store);
  await store.putRecord(NS.meta, RECORD_KEY, current.url);
  await audit({
    type: 'config.changed',
    target: 'ims.publicUrl',
    details: { ...(previous ? { previous: previous.url } : {}), current: current.url },
  });
  return { previous, current };
}
