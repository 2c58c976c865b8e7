import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { parseTargets } from '../farm/targets.js';
import { DEFAULT_PORTS, OPTIONS, type OptionKind, type OptionName, type Role } from './defaults.js';

export interface Config {
  readonly role: Role;
  /** Absolute path of the data folder. */
  readonly data: string;
  readonly host: string;
  readonly port: number;
  /** The IMS's port when `latchkey start` runs it beside the author (`port` is the author's). */
  readonly imsPort: number;
  /** Store URL, always explicit: `sqlite:/abs/file.sqlite` or `postgres://…`. */
  readonly db: string;
  readonly logLevel: string;
  readonly adminPassword: string | undefined;
  readonly tls: { readonly cert: string; readonly key: string } | undefined;
  readonly security: {
    readonly anonymous: boolean;
    readonly passwordHashCost: number;
    readonly maxConcurrentHashes: number;
    readonly maxQueuedHashes: number;
    /** How long verified Basic credentials are accepted again without a hash (0: never). */
    readonly basicCacheMs: number;
    /** Origins besides the server's own that may send writes (`https://host[:port]`). */
    readonly allowedOrigins: readonly string[];
    /**
     * Host names requests may name besides the ones always allowed (see http/host.ts): lower
     * case, `*.domain` for subdomains, `*` for any.
     */
    readonly allowedHosts: readonly string[];
  };
  readonly http: {
    readonly bodyLimit: number;
    readonly maxPathLength: number;
    readonly maxRenderNodes: number;
  };
  readonly repository: { readonly aclCacheMs: number };
  /** Client addresses that may read the metrics without credentials. */
  readonly metrics: { readonly allowFrom: readonly string[] };
  readonly crypto: { readonly keyStorage: 'file' | 'repository' };
  readonly tokens: {
    readonly maxPerUser: number;
    readonly userCacheMs: number;
    readonly secureCookie: boolean;
    readonly bindAddress: boolean;
  };
  readonly ims: {
    readonly url: string | undefined;
    /** A PEM file of CA certificates trusted for calls to the IMS (`ims.ca`). */
    readonly ca: string | undefined;
    readonly revocationPollMs: number;
    /**
     * The configured public URL (`ims.publicUrl`), or `undefined`: then the address the first IMS
     * process listens on. The store's recorded value rules either way (see ims/public-url.ts).
     */
    readonly publicUrl: string | undefined;
    /** The `as` claim of access tokens (what `Ims.fromToken` of @adobe/aio-lib-ims reads). */
    readonly asClaim: string;
    readonly accessTokenAlgorithm: 'ES256' | 'RS256';
    /** Other IMS URLs exchange JWTs may name (`aud`, metascope claims). */
    readonly audiences: readonly string[];
  };
  readonly environment: string;
  /** Options of `latchkey start` only. */
  readonly start: { readonly imsHttp: boolean; readonly authorHttps: boolean };
  /** The author this instance copies users and groups from (`users.*` options). */
  readonly users: {
    readonly source: string | undefined;
    readonly sourceUser: string;
    readonly sourcePassword: string | undefined;
    readonly sourceCa: string | undefined;
    readonly pullMs: number;
  };
  readonly audit: {
    readonly maxFileBytes: number;
    readonly maxFiles: number;
    readonly retentionDays: number;
  };
  readonly throttle: {
    readonly maxFailuresPerUser: number;
    readonly maxFailuresPerAddress: number;
    readonly windowMs: number;
  };
}

export interface ConfigSources {
  /** Command-line values, by option name; `undefined` entries are ignored. */
  readonly flags?: Partial<Record<OptionName, unknown>>;
  /** Environment (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** JSON config file; default `LATCHKEY_CONFIG` from `env`. */
  readonly file?: string | undefined;
  /** Folder relative paths are resolved against (default `process.cwd()`). */
  readonly cwd?: string;
}

type Raw = { value: unknown; source: string };

/**
 * Builds the configuration from defaults, file, environment and flags (in rising precedence),
 * validates every option once, and returns it deeply frozen. A bad value throws a
 * {@link ConfigError} naming the option, where the value came from and (unless secret) the value.
 *
 * @example
 * ```ts
 * const config = loadConfig({ flags: { role: 'publish', port: 4503 } });
 * config.http.bodyLimit; // 1048576
 * ```
 */
export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env;
  const cwd = sources.cwd ?? process.cwd();
  const file = sources.file ?? env['LATCHKEY_CONFIG'];
  const fromFile = file ? readConfigFile(resolve(cwd, file)) : new Map<string, unknown>();

  const values = new Map<OptionName, unknown>();
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const spec = OPTIONS[name];
    const raw = pick(name, sources.flags?.[name], env[spec.env], fromFile.get(name), file);
    if (raw === undefined) {
      values.set(name, spec.default);
      continue;
    }
    values.set(name, parseValue(name, spec.kind, raw, 'secret' in spec && spec.secret === true));
  }

  const role = values.get('role') as Role;
  const data = resolve(cwd, values.get('data') as string);
  // A file where the data folder should be: say so, before any store tries to make a folder there.
  const dataStat = statSync(data, { throwIfNoEntry: false });
  if (dataStat && !dataStat.isDirectory()) {
    throw new ConfigError(
      'data',
      `data must be a folder, got ${JSON.stringify(values.get('data'))}, which is a file: choose another with --data`,
    );
  }
  const tlsCert = values.get('tls.cert') as string | undefined;
  const tlsKey = values.get('tls.key') as string | undefined;
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    const missing = tlsCert === undefined ? 'tls.cert' : 'tls.key';
    throw new ConfigError(missing, `${missing} is required when the other TLS option is set`);
  }
  const publicUrl = values.get('ims.publicUrl') as string | undefined;
  if (publicUrl !== undefined) {
    const u = new URL(publicUrl);
    if (u.pathname !== '/' || u.search || u.hash || u.username || u.password) {
      throw new ConfigError(
        'ims.publicUrl',
        `ims.publicUrl must be scheme://host[:port], without path, query or credentials (clients call <publicUrl>/ims/…), got ${JSON.stringify(publicUrl)}`,
      );
    }
  }
  const usersSource = values.get('users.source') as string | undefined;
  const usersSourcePassword = values.get('users.sourcePassword') as string | undefined;
  if (usersSource !== undefined) {
    const u = new URL(usersSource);
    if (u.username || u.password)
      throw new ConfigError(
        'users.source',
        'users.source must not hold credentials: set users.sourceUser and users.sourcePassword (LATCHKEY_USERS_SOURCE_PASSWORD)',
      );
    try {
      parseTargets([usersSource]);
    } catch (err) {
      throw new ConfigError('users.source', (err as Error).message.replace(/^--to /, ''));
    }
    if (usersSourcePassword === undefined)
      throw new ConfigError(
        'users.sourcePassword',
        'users.sourcePassword (LATCHKEY_USERS_SOURCE_PASSWORD) is required with users.source',
      );
  }
  const usersSourceCa = values.get('users.sourceCa') as string | undefined;
  const config: Config = {
    role,
    data,
    host: values.get('host') as string,
    port: (values.get('port') as number | undefined) ?? DEFAULT_PORTS[role],
    imsPort: values.get('imsPort') as number,
    db: normalizeDb(values.get('db') as string | undefined, data, role, cwd),
    logLevel: values.get('logLevel') as string,
    adminPassword: values.get('adminPassword') as string | undefined,
    tls: tlsCert && tlsKey ? { cert: resolve(cwd, tlsCert), key: resolve(cwd, tlsKey) } : undefined,
    security: {
      anonymous: (values.get('security.anonymous') as boolean | undefined) ?? role === 'publish',
      passwordHashCost: values.get('security.passwordHashCost') as number,
      maxConcurrentHashes: values.get('security.maxConcurrentHashes') as number,
      maxQueuedHashes: values.get('security.maxQueuedHashes') as number,
      basicCacheMs: values.get('security.basicCacheMs') as number,
      allowedOrigins: parseOrigins(
        values.get('security.allowedOrigins') as string | undefined,
        'security.allowedOrigins',
      ),
      allowedHosts: parseHostNames(values.get('security.allowedHosts') as string | undefined),
    },
    http: {
      bodyLimit: values.get('http.bodyLimit') as number,
      maxPathLength: values.get('http.maxPathLength') as number,
      maxRenderNodes: values.get('http.maxRenderNodes') as number,
    },
    repository: { aclCacheMs: values.get('repository.aclCacheMs') as number },
    metrics: {
      allowFrom: parseAddresses(values.get('metrics.allowFrom') as string | undefined),
    },
    crypto: { keyStorage: values.get('crypto.keyStorage') as 'file' | 'repository' },
    tokens: {
      maxPerUser: values.get('tokens.maxPerUser') as number,
      userCacheMs: values.get('tokens.userCacheMs') as number,
      secureCookie: values.get('tokens.secureCookie') as boolean,
      bindAddress: values.get('tokens.bindAddress') as boolean,
    },
    environment: values.get('environment') as string,
    users: {
      source: usersSource?.replace(/\/+$/, ''),
      sourceUser: values.get('users.sourceUser') as string,
      sourcePassword: usersSourcePassword,
      sourceCa: usersSourceCa === undefined ? undefined : resolve(cwd, usersSourceCa),
      pullMs: values.get('users.pullMs') as number,
    },
    ims: {
      url: (values.get('ims.url') as string | undefined)?.replace(/\/+$/, ''),
      ca: optionalPath(values.get('ims.ca'), cwd),
      revocationPollMs: values.get('ims.revocationPollMs') as number,
      publicUrl,
      asClaim: values.get('ims.asClaim') as string,
      accessTokenAlgorithm: values.get('ims.accessTokenAlgorithm') as 'ES256' | 'RS256',
      audiences: parseOrigins(values.get('ims.audiences') as string | undefined, 'ims.audiences'),
    },
    start: {
      imsHttp: values.get('start.imsHttp') as boolean,
      authorHttps: values.get('start.authorHttps') as boolean,
    },
    audit: {
      maxFileBytes: values.get('audit.maxFileBytes') as number,
      maxFiles: values.get('audit.maxFiles') as number,
      retentionDays: values.get('audit.retentionDays') as number,
    },
    throttle: {
      maxFailuresPerUser: values.get('throttle.maxFailuresPerUser') as number,
      maxFailuresPerAddress: values.get('throttle.maxFailuresPerAddress') as number,
      windowMs: values.get('throttle.windowMs') as number,
    },
  };
  return deepFreeze(config);
}

function pick(
  name: OptionName,
  flag: unknown,
  envValue: string | undefined,
  fileValue: unknown,
  file: string | undefined,
): Raw | undefined {
  if (flag !== undefined) return { value: flag, source: `flag for ${name}` };
  if (envValue !== undefined && envValue !== '') {
    return { value: envValue, source: `environment variable ${OPTIONS[name].env}` };
  }
  if (fileValue !== undefined) return { value: fileValue, source: `config file ${file}` };
  return undefined;
}

function parseValue(name: string, kind: OptionKind, raw: Raw, secret: boolean): unknown {
  const { value, source } = raw;
  const fail = (expected: string): never => {
    const shown = secret ? '(value hidden)' : JSON.stringify(value);
    throw new ConfigError(name, `${name} (from ${source}) must be ${expected}, got ${shown}`);
  };
  switch (kind.type) {
    case 'string':
    case 'path': {
      if (typeof value !== 'string' || value.length === 0 || value.includes('\0')) {
        return fail('a non-empty string');
      }
      return value;
    }
    case 'int': {
      const n =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && /^-?\d+$/.test(value.trim())
            ? Number(value)
            : Number.NaN;
      if (!Number.isSafeInteger(n) || n < kind.min || n > kind.max) {
        return fail(`an integer from ${kind.min} to ${kind.max}`);
      }
      return n;
    }
    case 'bool': {
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string') {
        const v = value.trim().toLowerCase();
        if (['true', '1', 'yes', 'on'].includes(v)) return true;
        if (['false', '0', 'no', 'off'].includes(v)) return false;
      }
      return fail('true or false');
    }
    case 'enum': {
      if (typeof value !== 'string' || !kind.values.includes(value)) {
        return fail(`one of ${kind.values.join(', ')}`);
      }
      return value;
    }
    case 'url': {
      if (typeof value !== 'string') return fail(`a URL (${kind.protocols.join(' ')})`);
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        // The value may hold a database password: never echo it.
        throw new ConfigError(name, `${name} (from ${source}) is not a valid URL`);
      }
      if (!kind.protocols.includes(url.protocol)) {
        throw new ConfigError(
          name,
          `${name} (from ${source}) must use one of ${kind.protocols.join(' ')}, got ${url.protocol}`,
        );
      }
      return value;
    }
  }
}

/** A comma-separated list of origins (`scheme://host[:port]`, no path), normalized. */
function parseAddresses(list: string | undefined): string[] {
  if (list === undefined) return [];
  return list
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean)
    .map((a) => {
      if (isIP(a) === 0)
        throw new ConfigError(
          'metrics.allowFrom',
          `metrics.allowFrom: ${JSON.stringify(a)} is not an IP address such as 10.0.0.5`,
        );
      return a;
    });
}

function parseOrigins(list: string | undefined, option: string): string[] {
  if (list === undefined) return [];
  return list
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean)
    .map((o) => {
      let url: URL;
      try {
        url = new URL(o);
      } catch {
        throw new ConfigError(
          option,
          `${option}: ${JSON.stringify(o)} is not a URL such as https://host:8443`,
        );
      }
      if (
        !['http:', 'https:'].includes(url.protocol) ||
        (url.pathname !== '/' && url.pathname !== '')
      ) {
        throw new ConfigError(
          option,
          `${option}: ${JSON.stringify(o)} must be scheme://host[:port] with no path`,
        );
      }
      return url.origin;
    });
}

/**
 * `security.allowedHosts`: host names (`name`, `*.domain`, `*`), lower case, without a trailing
 * dot. An IP address is accepted (it is always allowed anyway); a port, path or scheme is not.
 */
function parseHostNames(list: string | undefined): string[] {
  if (list === undefined) return [];
  return list
    .split(',')
    .map((h) => h.trim().toLowerCase().replace(/\.$/, ''))
    .filter(Boolean)
    .map((h) => {
      if (h === '*') return h;
      const name = h.startsWith('*.') ? h.slice(2) : h;
      const ip = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
      if (isIP(ip) !== 0 && name === h) return h;
      if (!/^[a-z0-9_](?:[a-z0-9_.-]{0,251}[a-z0-9_])?$/.test(name) || name.includes('..'))
        throw new ConfigError(
          'security.allowedHosts',
          `security.allowedHosts: ${JSON.stringify(h.slice(0, 100))} is not a host name such as latchkey.example or *.example.com (no scheme, no port)`,
        );
      return h;
    });
}

function optionalPath(value: unknown, cwd: string): string | undefined {
  return typeof value === 'string' ? resolve(cwd, value) : undefined;
}

function normalizeDb(db: string | undefined, data: string, role: Role, cwd: string): string {
  if (db === undefined) return `sqlite:${resolve(data, `${role}.sqlite`)}`;
  if (db.startsWith('sqlite:')) {
    const file = db.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file === '')
      throw new ConfigError('db', 'db: sqlite: needs a file path, e.g. sqlite:./x.sqlite');
    return `sqlite:${resolve(cwd, file)}`;
  }
  return db;
}

function readConfigFile(file: string): Map<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('config', `cannot read config file ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      'config',
      `config file ${file} is not valid JSON: ${(err as Error).message}`,
    );
  }
  if (!isPlainObject(parsed))
    throw new ConfigError('config', `config file ${file} must hold a JSON object`);
  const out = new Map<string, unknown>();
  const walk = (obj: Record<string, unknown>, prefix: string) => {
    for (const [key, value] of Object.entries(obj)) {
      const name = prefix + key;
      // Own names only: `constructor` or `__proto__` is an unknown option, not Object's.
      if (Object.hasOwn(OPTIONS, name)) out.set(name, value);
      else if (isPlainObject(value) && Object.keys(OPTIONS).some((o) => o.startsWith(`${name}.`))) {
        walk(value, `${name}.`);
      } else {
        throw new ConfigError(name, `config file ${file}: unknown option ${name}`);
      }
    }
  };
  walk(parsed, '');
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** The effective configuration as printable JSON, secrets (and database passwords) hidden. */
export function describeConfig(config: Config): Record<string, unknown> {
  const db = new URL(config.db);
  if (db.password) db.password = '***';
  return {
    ...config,
    db: db.href,
    adminPassword: config.adminPassword === undefined ? undefined : '***',
    users: {
      ...config.users,
      sourcePassword: config.users.sourcePassword === undefined ? undefined : '***',
    },
  };
}
