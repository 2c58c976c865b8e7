import { readFileSync } from 'node:fs';
import type { AuditLog } from '../audit/log.js';
import { runAudited } from '../audit/record.js';
import { userPulls } from '../metrics/registry.js';
import type { RepositoryContext } from '../repository/context.js';
import { applyUserSnapshot } from '../repository/users/replication/apply.js';
import type { UserSnapshot } from '../repository/users/replication/snapshot.js';
import { type AdminCredentials, callAdmin } from './admin-client.js';

export const USERS_FEED = '/system/users/replication.json';

/** Longest wait between pulls that keep failing for a passing reason (down, timeout). */
const MAX_BACKOFF_MS = 60_000;
/**
 * Wait after the author refused the credentials (or throttled them): the configuration does not
 * change while the instance runs, so asking every second would only count failures against the
 * account at the author (and lock it out there); one try every five minutes notices a password
 * changed at the author to match.
 */
const REFUSED_WAIT_MS = 300_000;
const REFUSALS = new Set(['unauthorized', 'forbidden', 'too_many_requests']);

export interface SubscriptionOptions {
  /** The author's base URL. */
  readonly source: string;
  readonly user: string;
  readonly password: string;
  /** Path of a PEM CA certificate to trust for the source. */
  readonly caFile?: string | undefined;
  readonly intervalMs: number;
  readonly log: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
  };
  /** Where the copied changes are recorded (`user.created`, … with `details.replicatedFrom`). */
  readonly auditLog?: AuditLog;
}

/**
 * Copies the users and groups of an author into this instance's store: pulls the author's feed
 * every `intervalMs` (with `If-None-Match`: an unchanged feed is a bodiless 304) and applies what
 * changed (see {@link applyUserSnapshot}). Pulling rather than pushing: the author needs neither
 * the publish instances' addresses nor their credentials, an instance that was down or cut off
 * catches up by itself at its next pull, and the bound is the same for every instance. A failed
 * pull is logged once per kind (and its recovery) and tried again later: the wait doubles up to
 * a minute while the author cannot be reached, and is five minutes once it refused the
 * credentials (so a wrong password does not lock the account out at the author); meanwhile the
 * instance keeps the users it has.
 */
export class UserSubscription {
  readonly #ctx: RepositoryContext;
  readonly #options: SubscriptionOptions;
  readonly #credentials: AdminCredentials;
  #tag: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #failing: string | undefined;
  #failures = 0;
  #refused = false;
  #running: Promise<void> | undefined;

  constructor(ctx: RepositoryContext, options: SubscriptionOptions) {
    this.#ctx = ctx;
    this.#options = options;
    this.#credentials = {
      user: options.user,
      password: options.password,
      ca: options.caFile === undefined ? undefined : readFileSync(options.caFile, 'utf8'),
      timeoutMs: Math.max(5000, options.intervalMs),
    };
  }

  /** Starts pulling (the first pull at once, in the background). */
  start(): void {
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(ms: number) {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      const { auditLog, source } = this.#options;
      const pull = () => this.pull();
      this.#running = (
        auditLog
          ? runAudited({ log: auditLog, actor: () => `replication:${source}` }, pull)
          : pull()
      ).finally(() => this.#schedule(this.#nextWait()));
    }, ms);
    this.#timer.unref();
  }

  /** The interval; after failures, longer: doubling up to a minute, five once refused. */
  #nextWait(): number {
    const { intervalMs } = this.#options;
    if (this.#failures === 0) return intervalMs;
    if (this.#refused) return Math.max(intervalMs, REFUSED_WAIT_MS);
    return Math.min(Math.max(intervalMs, MAX_BACKOFF_MS), intervalMs * 2 ** this.#failures);
  }

  /** One pull: asks the source, applies a changed feed. Never throws. */
  async pull(): Promise<void> {
    const { source, log } = this.#options;
    try {
      const answer = await callAdmin(
        source,
        USERS_FEED,
        this.#credentials,
        undefined,
        this.#tag ? { 'if-none-match': this.#tag } : {},
      );
      if (!answer.ok) return this.#failed(answer.error, `${answer.error}: ${answer.message}`);
      if (answer.notModified) {
        userPulls.inc({ outcome: 'unchanged' });
        return this.#recovered();
      }
      if (!isSnapshot(answer.body))
        return this.#failed('bad_answer', 'bad_answer: not a users feed');
      const report = await applyUserSnapshot(this.#ctx, answer.body, source);
      this.#tag = answer.etag;
      userPulls.inc({ outcome: 'applied' });
      this.#recovered();
      if (report.created.length + report.changed.length + report.deleted.length > 0)
        log.info({ source, ...report }, 'users and groups copied from the author');
    } catch (err) {
      this.#failed('error', String(err));
    }
  }

  /** Logged once per kind of failure (a reason's text may change every time: a countdown). */
  #failed(kind: string, reason: string) {
    userPulls.inc({ outcome: 'failed' });
    this.#failures++;
    this.#refused = REFUSALS.has(kind);
    if (this.#failing === kind) return;
    this.#failing = kind;
    this.#options.log.warn(
      { source: this.#options.source, reason, nextTryS: Math.round(this.#nextWait() / 1000) },
      'users not copied from the author: keeping the users this instance has, trying again',
    );
  }

  #recovered() {
    this.#failures = 0;
    this.#refused = false;
    if (this.#failing === undefined) return;
    this.#failing = undefined;
    this.#options.log.info({ source: this.#options.source }, 'users copied from the author again');
  }
}

function isSnapshot(body: unknown): body is UserSnapshot {
  const list = (body as UserSnapshot | undefined)?.authorizables;
  return (
    Array.isArray(list) &&
    list.every(
      (a) =>
        typeof a?.id === 'string' &&
        (a.kind === 'user' || a.kind === 'group') &&
        typeof a.properties === 'object' &&
        a.properties !== null &&
        !Array.isArray(a.properties) &&
        (a.profile === undefined || (typeof a.profile === 'object' && a.profile !== null)),
    )
  );
}
