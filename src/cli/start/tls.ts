import type { Config } from '../../config/load.js';

/** How `latchkey start` serves its two servers, and what the author and the user must trust. */
export interface StartTls {
  /** The IMS's configuration with its certificate (none with `start.imsHttp`). */
  readonly ims: Config;
  /** The author's configuration: plain HTTP unless `start.authorHttps`, trusting the IMS's CA. */
  author(config: Config): Config;
  /** The CA file the author trusts for its calls to the IMS (`ims.ca`), if any. */
  readonly ca: string | undefined;
  /** The data folder's local CA certificate, when the IMS serves its certificate. */
  readonly localCa: string | undefined;
  /** What to tell the user: how to trust the IMS, a created CA, a renewed certificate. */
  readonly notes: readonly string[];
}

/**
 * The IMS of `latchkey start` speaks HTTPS, because Adobe's clients call `https://<imsEndpoint>`:
 * with `--tls-cert`/`--tls-key` (or `tls.cert`/`tls.key`) given, with those; otherwise with the
 * data folder's local CA and the certificate it issued for 127.0.0.1 and localhost (created on
 * the first start, renewed with the same CA when it nears its expiry). `start.imsHttp` keeps
 * plain HTTP. The author stays plain HTTP on loopback unless `start.authorHttps`; it trusts the
 * IMS's CA for its own calls to the IMS with no setting from the user.
 */
export async function startTls(imsConfig: Config): Promise<StartTls> {
  const author = (ca: string | undefined, tls: Config['tls']) => (config: Config) =>
    freeze({
      ...config,
      tls: config.start.authorHttps ? tls : undefined,
      ims: { ...config.ims, ca: config.ims.ca ?? ca },
    });
  if (imsConfig.start.imsHttp) {
    return {
      ims: freeze({ ...imsConfig, tls: undefined }),
      author: author(undefined, undefined),
      ca: undefined,
      localCa: undefined,
      notes: [],
    };
  }
  if (imsConfig.tls) {
    // A certificate of the user's: the author trusts it as given (a self-signed one, or the
    // chain of a private CA); clients trust its issuer as they already do.
    return {
      ims: imsConfig,
      author: author(imsConfig.tls.cert, imsConfig.tls),
      ca: imsConfig.tls.cert,
      localCa: undefined,
      notes: [],
    };
  }
  const { ensureLocalTls } = await import('../../tls/local-ca.js');
  const local = await ensureLocalTls(imsConfig.data);
  const notes: string[] = [];
  if (local.caCreated) notes.push(`created a local CA for the IMS's HTTPS: ${local.ca}`);
  else if (local.issued)
    notes.push(
      `renewed the IMS's certificate with the same local CA (${local.issued === 'expiring' ? 'it was about to expire' : 'it no longer fitted'}); valid until ${local.notAfter.toISOString().slice(0, 10)}`,
    );
  notes.push(`trust the IMS's certificate: NODE_EXTRA_CA_CERTS=${local.ca}`);
  const tls = { cert: local.cert, key: local.key };
  return {
    ims: freeze({ ...imsConfig, tls }),
    author: author(local.ca, tls),
    ca: local.ca,
    localCa: local.ca,
    notes,
  };
}

function freeze(config: Config): Config {
  return Object.freeze(config);
}
