/**
 * Every kind of security event the audit log records, with what it means: the one list the
 * README's table and the audit tests are checked against. A type names what happened
 * (`<thing>.<verb>`); the line's `outcome` says how it ended.
 */
export const AUDIT_EVENT_TYPES = {
  login:
    "a credential check: the login form and the consoles' sign-in (success, failure), and failures of HTTP Basic, IMS administrator and client authentication (details.method: form, console, basic, ims-admin, client)",
  logout: 'a login token or console session ended by its owner',
  'token.issued':
    'a token was issued: a login token (details.kind login, stateful or encapsulated), an IMS access token (kind access, details.client_id, jti) or a development token (kind dev)',
  'token.revoked':
    'tokens were revoked: one access token (RFC 7009), development tokens by jti or user',
  'credentials.created': 'service credentials created for an environment (target: the client id)',
  'credentials.revoked': 'an integration revoked with every token issued to it',
  'certificate.added': 'a certificate added to an integration (details.fingerprint: its SHA-256)',
  'certificate.removed': 'a certificate removed from an integration',
  'keys.migrated': 'the keys moved between key files and the repository (details.to)',
  'keys.rotated':
    'a new primary master or hmac key (details.kind, previous, current; details.activated when it was distributed before)',
  'keys.imported':
    'keys installed from a bundle (details.source bundle, or push from latchkey keys push and farm rotate-hmac; details.verifyOnly when added as older versions only) or AEM key files (aem)',
  'keys.exported': 'keys written to a bundle file (details.file, sealed)',
  'keys.rewrapped': 'protected values re-sealed with the primary master key (details counts)',
  'signing-key.rotated':
    "the IMS's access-token signing key rotated (target: its kid; details.activeFrom)",
  'config.changed':
    'a configuration changed: the token handler (configMgr), a protected configuration (only field names, never values), the IMS public URL',
  'user.created': 'a user created (target: the user id)',
  'user.deleted': 'a user deleted',
  'user.disabled': 'a user disabled (details.reason)',
  'user.enabled': 'a disabled user enabled again',
  'user.password-changed': "a user's password changed (every session of the user ends)",
  'user.sessions-ended': 'every session of a user ended (endSessions, latchkey users logout)',
  'group.created': 'a group created',
  'group.deleted': 'a group deleted',
  'group.members-changed': "a group's members changed (details.added, removed)",
  'acl.changed': 'access-control entries changed on a path (modifyAce, deleteAce)',
  'csrf.refused':
    'a write refused by the CSRF protection (details.reason: origin for a foreign page, token for a missing or bad CSRF token)',
  'throttle.refused':
    'a credential check refused with 429 after too many failures (details.method; repeats within a minute are one line with count)',
} as const;

export type AuditType = keyof typeof AUDIT_EVENT_TYPES;
export const AUDIT_TYPES = Object.keys(AUDIT_EVENT_TYPES) as AuditType[];

/** `success`: it happened; `failure`: it was attempted and failed; `refused`: it was stopped. */
export type AuditOutcome = 'success' | 'failure' | 'refused';

/** A detail value: text, a number, a flag or a list of texts. Never a secret. */
export type AuditDetail = string | number | boolean | readonly string[];

/** What a domain operation reports; the log adds when, from where and, if not given, who. */
export interface AuditEvent {
  readonly type: AuditType;
  /** Default `success`. */
  readonly outcome?: AuditOutcome;
  /** Who acted. Default: the request's authenticated user, the command's OS user, or `anonymous`. */
  readonly actor?: string | undefined;
  /** What it acted on: a user id, a path, a client id, a key id. */
  readonly target?: string | undefined;
  readonly details?: Readonly<Record<string, AuditDetail | undefined>>;
}

/** One line of the audit log, as written (JSON) and read back. */
export interface AuditLine {
  /** ISO 8601, milliseconds, UTC. */
  readonly time: string;
  readonly type: AuditType;
  readonly outcome: AuditOutcome;
  readonly actor: string;
  readonly target?: string;
  /** The client's address (HTTP), absent for commands run on the machine. */
  readonly address?: string;
  /** The role of the process (`author`, `publish`, `ims`) or of the store a command worked on. */
  readonly role: string;
  /** Which process: `<host name>:<port>` for servers, `<host name>:cli` for commands. */
  readonly instance: string;
  readonly details?: Readonly<Record<string, AuditDetail>>;
  /** For repeated events written as one line: how many there were. */
  readonly count?: number;
}
