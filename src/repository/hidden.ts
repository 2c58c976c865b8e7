/**
 * What no rendering or browser shows, whoever asks: password hashes, session bookkeeping, and
 * the login-token store under each user.
 */
export const HIDDEN_PROPERTIES: ReadonlySet<string> = new Set([
  'rep:password',
  'latchkey:sessionsValidAfter',
]);
export const HIDDEN_NODES: ReadonlySet<string> = new Set(['.tokens']);

/** Whether a path lies in a hidden subtree. */
export function isHidden(path: string): boolean {
  return path.split('/').some((s) => HIDDEN_NODES.has(s));
}
