import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuditLog } from './log.js';
import type { AuditEvent } from './types.js';

/**
 * What an operation runs inside: the audit log of its process, and who and where as far as the
 * caller knows (an HTTP request's client address and authenticated user; a command's OS user).
 * Servers open a scope per request, commands one for their whole run: domain operations record
 * events with {@link audit} and never need to be handed a log.
 */
export interface AuditScope {
  readonly log: AuditLog;
  readonly address?: string | undefined;
  /**
   * Who acts when the event does not say, asked when it is recorded (authentication may come
   * after the scope opens).
   */
  readonly actor?: () => string | undefined;
  /**
   * Who acts, whatever the event says: a command run on the machine acts as its OS user
   * (`cli:<user>`), although it works on the repository as its administrator.
   */
  readonly command?: string;
  /** Set by an authentication that has no subject of its own (IMS administrators, clients). */
  authenticated?: string | undefined;
}

const scopes = new AsyncLocalStorage<AuditScope>();

/** Runs `fn` (and everything it awaits) inside `scope`. */
export function runAudited<T>(scope: AuditScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

/**
 * Records a security event in the audit log of the current request or command; resolves once it
 * is written, never throws. Outside any scope (a unit test calling a domain function directly)
 * it does nothing.
 *
 * @example
 * ```ts
 * await audit({ type: 'user.created', actor: actor.userId, target: id });
 * await audit({ type: 'login', outcome: 'failure', actor: user, details: { method: 'form' } });
 * ```
 */
export function audit(event: AuditEvent): Promise<void> {
  const scope = scopes.getStore();
  if (!scope) return Promise.resolve();
  const actor = scope.command ?? event.actor ?? scope.actor?.() ?? scope.authenticated;
  return scope.log.record(event, { actor, address: scope.address });
}

/**
 * Names who the current request acts as, when its authentication is not the repository's (an
 * IMS administrator, an authenticated client): later events default to that actor.
 */
export function setAuditActor(actor: string): void {
  const scope = scopes.getStore();
  if (scope) scope.authenticated = actor;
}
