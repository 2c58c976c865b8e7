import { commandAuditScope } from '../../audit/open.js';
import { runAudited } from '../../audit/record.js';
import type { Config } from '../../config/load.js';
import { openRoleStore } from '../../data-folder/open-role-store.js';
import { storesInFolder, usesEmbeddedStore } from '../../data-folder/stores-in-folder.js';
import { readPublicUrl, setPublicUrl } from '../../ims/public-url.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

/**
 * A `latchkey start` data folder whose IMS was last served with the other scheme (plain HTTP
 * before HTTPS became the default, or `--ims-http` now) records a public URL with that scheme;
 * clients would then sign for one URL and call another. For the quick start's own loopback URL
 * only, the recorded scheme follows the one served now, and so does the port when one is chosen
 * (`--ims-port N`; with `0` it stays), the host stays; a configured
 * `ims.publicUrl`, or any other host, is never changed here (that is `latchkey ims public-url`).
 * Returns a line for the user when it changed something.
 */
export async function followScheme(imsConfig: Config): Promise<string | undefined> {
  if (imsConfig.ims.publicUrl !== undefined) return undefined;
  if (usesEmbeddedStore(imsConfig) && !storesInFolder(imsConfig.data).includes('ims'))
    return undefined;
  const store = await openRoleStore(imsConfig, { create: false });
  try {
    const recorded = await readPublicUrl(store);
    if (!recorded) return undefined;
    const url = new URL(recorded.url);
    const scheme = imsConfig.tls ? 'https:' : 'http:';
    // A port chosen now (--ims-port N, not 0) is where clients must call: credentials naming the
    // old one would reach nothing.
    const port = imsConfig.port ? String(imsConfig.port) : url.port || defaultPort(url.protocol);
    const recordedPort = url.port || defaultPort(url.protocol);
    if (!LOOPBACK.test(url.hostname)) return undefined;
    if (url.protocol === scheme && recordedPort === port) return undefined;
    const next = `${scheme}//${url.hostname}:${port}`;
    await runAudited(commandAuditScope(imsConfig, store), () => setPublicUrl(store, next));
    const shown = (await readPublicUrl(store))?.url ?? next;
    return recordedPort === port
      ? `the IMS's public URL is now ${shown} (was ${recorded.url}): credentials created before keep working, tokens issued before name the old issuer`
      : `the IMS's public URL is now ${shown} (was ${recorded.url}): credentials created before name the old address, create new ones; tokens issued before name the old issuer`;
  } finally {
    await store.close();
  }
}

/**
 * The port to try first for an IMS asked to listen on any free port (`--ims-port 0`) on a data
 * folder that recorded the quick start's own loopback public URL: that URL's port. Listening
 * there again keeps the issuer, the discovery document's endpoints and the `imsEndpoint` of
 * credentials created before all naming this IMS, where a new free port would leave them naming
 * one nothing listens on. Undefined when a port was asked for, a public URL is configured, or
 * none (or another host's) is recorded.
 */
export async function recordedLoopbackPort(imsConfig: Config): Promise<number | undefined> {
  if (imsConfig.port !== 0 || imsConfig.ims.publicUrl !== undefined) return undefined;
  if (usesEmbeddedStore(imsConfig) && !storesInFolder(imsConfig.data).includes('ims'))
    return undefined;
  const store = await openRoleStore(imsConfig, { create: false });
  try {
    const recorded = await readPublicUrl(store);
    if (!recorded) return undefined;
    const url = new URL(recorded.url);
    if (!LOOPBACK.test(url.hostname) || url.port === '') return undefined;
    return Number(url.port);
  } finally {
    await store.close();
  }
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}
