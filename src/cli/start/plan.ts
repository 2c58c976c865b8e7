import type { OptionName } from '../../config/defaults.js';
import { type Config, loadConfig } from '../../config/load.js';
import { ConfigError } from '../../errors.js';

/** The command-line values of `latchkey start` (commander's names). */
export interface StartFlags {
  readonly data?: string | undefined;
  readonly port?: string | undefined;
  readonly imsPort?: string | undefined;
  readonly config?: string | undefined;
  readonly logLevel?: string | undefined;
  /** The IMS's certificate and key instead of the data folder's local CA. */
  readonly tlsCert?: string | undefined;
  readonly tlsKey?: string | undefined;
  /** `--ims-http`: the IMS on plain HTTP. */
  readonly imsHttp?: boolean | string | undefined;
  /** `--author-https`: the author on HTTPS too. */
  readonly authorHttps?: boolean | string | undefined;
}

/** The environment `latchkey start` serves: the author accepts the IMS's tokens for it. */
export const START_ENVIRONMENT = 'p1-e1';

/**
 * The configurations of what `latchkey start` runs, each option read once and checked before
 * anything is written. Each option means one thing: `port` (`--port`, `LATCHKEY_PORT`, the
 * file's `port`) is the author's, `imsPort` (`--ims-port`, `LATCHKEY_IMS_PORT`, the file's
 * `imsPort`) the IMS's. Both share the data folder, the log level and the admin password.
 */
export interface StartPlan {
  /** The author's configuration, before the IMS listens (no `ims.url` yet). */
  readonly author: Config;
  readonly ims: Config;
  /** The author's configuration once the IMS listens at `imsUrl`. */
  authorWith(imsUrl: string): Config;
  /** The configured admin password (`LATCHKEY_ADMIN_PASSWORD`, the file's `adminPassword`). */
  readonly adminPassword: string | undefined;
}

export function planStart(flags: StartFlags): StartPlan {
  const shared: Partial<Record<OptionName, unknown>> = {
    data: flags.data,
    logLevel: flags.logLevel,
    'start.imsHttp': flags.imsHttp,
    'start.authorHttps': flags.authorHttps,
  };
  const authorSources = (imsUrl: string | undefined) => ({
    flags: {
      ...shared,
      role: 'author',
      port: flags.port,
      imsPort: flags.imsPort,
      environment: START_ENVIRONMENT,
      'ims.url': imsUrl,
    },
    file: flags.config,
  });
  const author = loadConfig(authorSources(undefined));
  // The IMS's port is imsPort, given as its port: LATCHKEY_PORT or the file's port never reach it.
  const ims = loadConfig({
    flags: {
      ...shared,
      role: 'ims',
      port: author.imsPort,
      'tls.cert': flags.tlsCert,
      'tls.key': flags.tlsKey,
    },
    file: flags.config,
  });
  if (ims.start.imsHttp && ims.tls) {
    throw new ConfigError(
      'start.imsHttp',
      'start.imsHttp (--ims-http) serves the IMS over plain HTTP: it takes no certificate (tls.cert, --tls-cert)',
    );
  }
  return {
    author,
    ims,
    authorWith: (imsUrl) => loadConfig(authorSources(imsUrl)),
    adminPassword: author.adminPassword,
  };
}
