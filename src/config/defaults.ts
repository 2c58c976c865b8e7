/**
 * Every configuration option, its default and what it does: the one place where defaults are
 * defined. `latchkey config print` shows the effective values; the README's configuration table
 * is this list.
 *
 * Each option can be set, from lowest to highest precedence, by its default, a JSON config file
 * (`--config FILE` or `LATCHKEY_CONFIG`, nested as the dotted names suggest), an environment
 * variable (`env`), or a command-line flag.
 */

export type Role = 'author' | 'publish' | 'ims';
export const ROLES: readonly Role[] = ['author', 'publish', 'ims'];

/** Default port of each role, as AEM (author 4502, publish 4503) and latchkey's IMS. */
export const DEFAULT_PORTS: Readonly<Record<Role, number>> = {
  author: 4502,
  publish: 4503,
  ims: 4510,
};

export type OptionKind =
  | { type: 'string' }
  | { type: 'path' }
  | { type: 'int'; min: number; max: number }
  | { type: 'bool' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'url'; protocols: readonly string[] };

export interface OptionSpec {
  readonly kind: OptionKind;
  /** `undefined` means "derived" (see `doc`) or "not set". */
  readonly default: string | number | boolean | undefined;
  readonly env: string;
  readonly doc: string;
  /** Secret values are never echoed in errors or `config print`. */
  readonly secret?: boolean;
}

export const OPTIONS = {
  role: {
    kind: { type: 'enum', values: ROLES },
    default: 'author',
    env: 'LATCHKEY_ROLE',
    doc: 'Which server this process is: author, publish or ims.',
  },
  data: {
    kind: { type: 'path' },
    default: './latchkey-data',
    env: 'LATCHKEY_DATA',
    doc: 'Data folder: holds the embedded SQLite store of each role (<data>/<role>.sqlite).',
  },
  host: {
    kind: { type: 'string' },
    default: '127.0.0.1',
    env: 'LATCHKEY_HOST',
    doc: 'Interface to listen on. Use 0.0.0.0 to accept connections from other machines.',
  },
  port: {
    kind: { type: 'int', min: 0, max: 65535 },
    default: undefined,
    env: 'LATCHKEY_PORT',
    doc: "TCP port. Default by role: author 4502, publish 4503, ims 4510. 0 picks a free port. For latchkey start: the author's (imsPort is the IMS's).",
  },
  imsPort: {
    kind: { type: 'int', min: 0, max: 65535 },
    default: DEFAULT_PORTS.ims,
    env: 'LATCHKEY_IMS_PORT',
    doc: "(start) The IMS's TCP port when latchkey start runs it beside the author, whose port is port. 0 picks a free port.",
  },
  db: {
    kind: { type: 'url', protocols: ['sqlite:', 'postgres:', 'postgresql:'] },
    default: undefined,
    env: 'LATCHKEY_DB',
    doc: 'Store URL. Default: SQLite at <data>/<role>.sqlite. postgres://user@host:5432/db shares one store between processes (append ?schema=NAME to use a schema other than public).',
  },
  logLevel: {
    kind: { type: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    default: 'info',
    env: 'LATCHKEY_LOG_LEVEL',
    doc: 'Log level (JSON lines on stdout).',
  },
  adminPassword: {
    kind: { type: 'string' },
    default: undefined,
    env: 'LATCHKEY_ADMIN_PASSWORD',
    doc: 'Password of the admin user, used only when the store is initialized. Default: a random one, printed once.',
    secret: true,
  },
  'tls.cert': {
    kind: { type: 'path' },
    default: undefined,
    env: 'LATCHKEY_TLS_CERT',
    doc: 'PEM certificate (chain) file. With tls.key, the server speaks HTTPS.',
  },
  'tls.key': {
    kind: { type: 'path' },
    default: undefined,
    env: 'LATCHKEY_TLS_KEY',
    doc: 'PEM private key file for tls.cert.',
  },
  'security.anonymous': {
    kind: { type: 'bool' },
    default: undefined,
    env: 'LATCHKEY_SECURITY_ANONYMOUS',
    doc: 'Whether unauthenticated requests are served as the anonymous principal (subject to ACLs). Default: true on publish, false on author (401 instead).',
  },
  'security.passwordHashCost': {
    kind: { type: 'int', min: 10, max: 20 },
    default: 15,
    env: 'LATCHKEY_SECURITY_PASSWORD_HASH_COST',
    doc: "scrypt cost (log2 N, r=8, p=1) of password hashes. A repository user's existing hash keeps its own cost until the user's next successful sign-in, which hashes the password again at this one.",
  },
  'security.maxConcurrentHashes': {
    kind: { type: 'int', min: 1, max: 64 },
    default: 2,
    env: 'LATCHKEY_SECURITY_MAX_CONCURRENT_HASHES',
    doc: 'Most password hashes (scrypt, 32 MB each at cost 15) computed at once in this process; the rest of the thread pool stays free for token signing and I/O.',
  },
  'security.maxQueuedHashes': {
    kind: { type: 'int', min: 0, max: 10_000 },
    default: 16,
    env: 'LATCHKEY_SECURITY_MAX_QUEUED_HASHES',
    doc: 'Most password checks waiting for a hashing slot; beyond it a check is refused at once with 503 and Retry-After: 1.',
  },
  'security.basicCacheMs': {
    kind: { type: 'int', min: 0, max: 60_000 },
    default: 5000,
    env: 'LATCHKEY_SECURITY_BASIC_CACHE_MS',
    doc: 'How long HTTP Basic credentials that were verified are accepted again without a password hash (scrypt), in memory only and keyed by an HMAC under a per-process random key, never by the password. A password change, disable or delete drops them at once on this instance and within a second on others sharing the store (this delay if a change event is lost). 0 hashes on every request.',
  },
  'metrics.allowFrom': {
    kind: { type: 'string' },
    default: undefined,
    env: 'LATCHKEY_METRICS_ALLOW_FROM',
    doc: 'Comma-separated client IP addresses (a Prometheus server) that may read the metrics endpoint (GET /system/metrics, GET /ims/metrics) without credentials. By default only administrators may.',
  },
  'security.allowedOrigins': {
    kind: { type: 'string' },
    default: undefined,
    env: 'LATCHKEY_SECURITY_ALLOWED_ORIGINS',
    doc: "Comma-separated origins (https://host[:port]) besides the server's own whose pages may send writes (POST, PUT, DELETE, PATCH) with a browser's credentials. A write whose Origin or Referer names any other origin is refused (403 csrf_origin).",
  },
  'security.allowedHosts': {
    kind: { type: 'string' },
    default: undefined,
    env: 'LATCHKEY_SECURITY_ALLOWED_HOSTS',
    doc: 'Comma-separated host names (name, or *.domain for its subdomains; no port) that requests may name in their Host header, besides those always allowed: IP addresses, localhost and *.localhost, and the host names of ims.publicUrl (on the IMS: its recorded public URL) and of security.allowedOrigins. Any other Host is refused (421 host_not_allowed): a page whose domain re-resolves to this server (DNS rebinding) cannot reach it. Behind a reverse proxy or under a DNS name, list the public names; * allows any Host (then nothing stops DNS rebinding).',
  },
  'http.bodyLimit': {
    kind: { type: 'int', min: 1024, max: 1024 * 1024 * 1024 },
    default: 1024 * 1024,
    env: 'LATCHKEY_HTTP_BODY_LIMIT',
    doc: 'Largest accepted request body in bytes (413 above it).',
  },
  'http.maxPathLength': {
    kind: { type: 'int', min: 64, max: 8192 },
    default: 1024,
    env: 'LATCHKEY_HTTP_MAX_PATH_LENGTH',
    doc: 'Longest accepted repository path in characters, after decoding (414 above it).',
  },
  'http.maxRenderNodes': {
    kind: { type: 'int', min: 1, max: 1_000_000 },
    default: 1000,
    env: 'LATCHKEY_HTTP_MAX_RENDER_NODES',
    doc: 'Most nodes one JSON rendering may contain; a deeper request gets 300 with the depths that fit.',
  },
  'tokens.maxPerUser': {
    kind: { type: 'int', min: 1, max: 10_000 },
    default: 50,
    env: 'LATCHKEY_TOKENS_MAX_PER_USER',
    doc: 'Most live stateful login tokens per user; logging in beyond it retires the oldest.',
  },
  'tokens.userCacheMs': {
    kind: { type: 'int', min: 0, max: 600_000 },
    default: 5000,
    env: 'LATCHKEY_TOKENS_USER_CACHE_MS',
    doc: 'How long a token-authenticated user is known to exist and be enabled, and a stateful token’s node is known, without a store read. Changes made on another instance sharing the store (a user deleted or disabled, a logout) arrive over the change channel within a second; this delay bounds them when an event is lost (at once on the instance that made the change).',
  },
  'tokens.bindAddress': {
    kind: { type: 'bool' },
    default: false,
    env: 'LATCHKEY_TOKENS_BIND_ADDRESS',
    doc: 'Bind stateful login tokens to the client address they were issued to (refused from any other).',
  },
  'tokens.secureCookie': {
    kind: { type: 'bool' },
    default: false,
    env: 'LATCHKEY_TOKENS_SECURE_COOKIE',
    doc: 'Mark the login-token cookie Secure even over plain HTTP (behind a TLS-terminating proxy). Always Secure on HTTPS and with SameSite=None.',
  },
  'throttle.maxFailuresPerUser': {
    kind: { type: 'int', min: 1, max: 1_000_000 },
    default: 5,
    env: 'LATCHKEY_THROTTLE_MAX_FAILURES_PER_USER',
    doc: "Failed credential checks (login form, HTTP Basic, IMS administrators, client secrets) for one user name or client id from one client address within throttle.windowMs before further attempts from that address get 429. Attempts from other addresses are not affected, so nobody can lock an account's owner out.",
  },
  'throttle.maxFailuresPerAddress': {
    kind: { type: 'int', min: 1, max: 1_000_000 },
    default: 20,
    env: 'LATCHKEY_THROTTLE_MAX_FAILURES_PER_ADDRESS',
    doc: 'Failed credential checks from one client address (any user name; IPv6 by /64) within throttle.windowMs before further attempts from it get 429.',
  },
  'throttle.windowMs': {
    kind: { type: 'int', min: 1000, max: 86_400_000 },
    default: 300_000,
    env: 'LATCHKEY_THROTTLE_WINDOW_MS',
    doc: 'The login throttling window; Retry-After says when the oldest counted failure leaves it.',
  },
  'ims.url': {
    kind: { type: 'url', protocols: ['http:', 'https:'] },
    default: undefined,
    env: 'LATCHKEY_IMS',
    doc: 'Base URL of the IMS whose access tokens an instance accepts (Authorization: Bearer). Unset: bearer tokens are refused.',
  },
  'ims.ca': {
    kind: { type: 'path' },
    default: undefined,
    env: 'LATCHKEY_IMS_CA',
    doc: "(instances) PEM file of CA certificates to trust for the calls to the IMS (ims.url: its keys and revocation list) and to IMS configurations' endpoints, besides Node's bundled roots and NODE_EXTRA_CA_CERTS. latchkey start sets it to its local CA (<data>/tls/ca.crt).",
  },
  'ims.revocationPollMs': {
    kind: { type: 'int', min: 1000, max: 3_600_000 },
    default: 10_000,
    env: 'LATCHKEY_IMS_REVOCATION_POLL_MS',
    doc: '(instances) How often the IMS revocation list is pulled: a revoked access token is refused within this delay.',
  },
  'users.source': {
    kind: { type: 'url', protocols: ['http:', 'https:'] },
    default: undefined,
    env: 'LATCHKEY_USERS_SOURCE',
    doc: '(author, publish) The author whose users and groups this instance copies (pull, every users.pullMs): https://author:4502. Unset: users are managed here only.',
  },
  'users.sourceUser': {
    kind: { type: 'string' },
    default: 'admin',
    env: 'LATCHKEY_USERS_SOURCE_USER',
    doc: 'The account on users.source that reads its users: an administrator or, better, a member of its group user-replicators.',
  },
  'users.sourcePassword': {
    kind: { type: 'string' },
    default: undefined,
    env: 'LATCHKEY_USERS_SOURCE_PASSWORD',
    doc: 'The password of users.sourceUser on users.source (required with users.source).',
    secret: true,
  },
  'users.sourceCa': {
    kind: { type: 'path' },
    default: undefined,
    env: 'LATCHKEY_USERS_SOURCE_CA',
    doc: "A PEM CA certificate to trust for users.source, besides the system's (and NODE_EXTRA_CA_CERTS).",
  },
  'users.pullMs': {
    kind: { type: 'int', min: 200, max: 3_600_000 },
    default: 1000,
    env: 'LATCHKEY_USERS_PULL_MS',
    doc: 'How often users.source is asked for changes (an unchanged answer is a 304 without a body): a change there applies here within this delay and one request.',
  },
  environment: {
    kind: { type: 'string' },
    default: 'p1-e1',
    env: 'LATCHKEY_ENVIRONMENT',
    doc: 'The program and environment this instance belongs to; access tokens for another environment are refused.',
  },
  'ims.publicUrl': {
    kind: { type: 'url', protocols: ['http:', 'https:'] },
    default: undefined,
    env: 'LATCHKEY_IMS_PUBLIC_URL',
    doc: "(ims) Where clients reach the IMS, scheme://host[:port]: tokens' iss is <publicUrl>/ims and service credentials name its host[:port] as imsEndpoint. The first IMS process of a deployment records it in the store; every process and command sharing that store then uses the recorded one (latchkey ims public-url changes it). Default: where that first process listens.",
  },
  'ims.asClaim': {
    kind: { type: 'string' },
    default: 'latchkey',
    env: 'LATCHKEY_IMS_AS_CLAIM',
    doc: "(ims) The as claim of access tokens. @adobe/aio-lib-ims's Ims.fromToken turns it into https://<as>.adobelogin.com and knows only Adobe's hosts, so no value makes it find this IMS: the default makes it fail (CANNOT_RESOLVE_ENVIRONMENT) instead of sending tokens to Adobe; ims-na1 makes it return an Ims for Adobe's production IMS, whose endpoint the caller must then set.",
  },
  'ims.audiences': {
    kind: { type: 'string' },
    default: undefined,
    env: 'LATCHKEY_IMS_AUDIENCES',
    doc: "(ims) Other IMS URLs, comma-separated, that exchange JWTs may name: their aud must be this IMS's public URL or one of these plus /c/<client_id>, their metascope claims the same URL plus /s/<metascope>. For clients that cannot be pointed at this IMS's URL.",
  },
  'ims.accessTokenAlgorithm': {
    kind: { type: 'enum', values: ['ES256', 'RS256'] },
    default: 'ES256',
    env: 'LATCHKEY_IMS_ACCESS_TOKEN_ALGORITHM',
    doc: 'Signature algorithm of access tokens. ES256 verifies fast on every request; RS256 for clients that need it.',
  },
  'start.imsHttp': {
    kind: { type: 'bool' },
    default: false,
    env: 'LATCHKEY_START_IMS_HTTP',
    doc: "(latchkey start) Serve the IMS over plain HTTP instead of HTTPS. Adobe's clients call https://<imsEndpoint> and cannot use it then.",
  },
  'start.authorHttps': {
    kind: { type: 'bool' },
    default: false,
    env: 'LATCHKEY_START_AUTHOR_HTTPS',
    doc: "(latchkey start) Serve the author over HTTPS too, with the IMS's certificate (the local CA's, or tls.cert). Default: plain HTTP on loopback.",
  },
  'crypto.keyStorage': {
    kind: { type: 'enum', values: ['file', 'repository'] },
    default: 'file',
    env: 'LATCHKEY_CRYPTO_KEY_STORAGE',
    doc: 'Where new keys go when a data folder is initialized: key files (<data>/crypto, storage Bundle) or the repository (/etc/key, storage JCR, the legacy layout). Afterwards the storage file decides; latchkey keys migrate moves them.',
  },
  'audit.maxFileBytes': {
    kind: { type: 'int', min: 4096, max: 1024 * 1024 * 1024 },
    default: 10 * 1024 * 1024,
    env: 'LATCHKEY_AUDIT_MAX_FILE_BYTES',
    doc: 'The audit log (<data>/audit/audit.log) is rotated when it would grow past this size (bytes).',
  },
  'audit.maxFiles': {
    kind: { type: 'int', min: 1, max: 10_000 },
    default: 10,
    env: 'LATCHKEY_AUDIT_MAX_FILES',
    doc: 'Rotated audit files kept beside the current one; older ones are removed.',
  },
  'audit.retentionDays': {
    kind: { type: 'int', min: 1, max: 36_500 },
    default: 365,
    env: 'LATCHKEY_AUDIT_RETENTION_DAYS',
    doc: 'On a shared store (PostgreSQL), where the audit log lives in the store: how long each line is kept.',
  },
  'repository.aclCacheMs': {
    kind: { type: 'int', min: 0, max: 3_600_000 },
    default: 5000,
    env: 'LATCHKEY_REPOSITORY_ACL_CACHE_MS',
    doc: 'How long access-control and group-membership data is cached before it is re-read. Local changes apply at once; changes made by another process sharing the store apply within this delay.',
  },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;
