import { ancestorsAndSelf, isSameOrDescendant } from './path.js';

/**
 * The repository's system roots: subtrees latchkey itself owns. Sling POST (and the System
 * Console's repository browser, which writes the same way) never creates, changes or removes
 * anything at or under them, whatever an ACL grants: users and groups change through the user
 * admin (`/home`), keys through the keys commands (`/etc/key`, repository key storage), latchkey's
 * configurations through their consoles (`/conf/latchkey`), and `/libs` is the product's own
 * namespace (AEM's is read-only too; latchkey serves its `/libs/granite/…` endpoints there).
 */
export const PROTECTED_ROOTS: readonly string[] = ['/home', '/etc/key', '/conf/latchkey', '/libs'];

/**
 * Subtrees that only administrators may read or change, whatever an ACL grants: the key material
 * of repository key storage and latchkey's configurations (sealed secrets included). They are
 * left out of every rendering of an ancestor (`/etc.infinity.json`) for anyone else.
 */
export const ADMIN_ONLY_ROOTS: readonly string[] = ['/etc/key', '/conf/latchkey'];

/** Whether `path` is the root or lies in a system root (no Sling write reaches it). */
export function isProtectedPath(path: string): boolean {
  return path === '/' || PROTECTED_ROOTS.some((r) => isSameOrDescendant(path, r));
}

/**
 * Whether removing `path` would remove a system root with it: `/`, `/etc` (it holds `/etc/key`),
 * `/conf`, or a system root itself. Such a node is never deleted, also while the system root
 * does not exist yet (with key files, `/etc/key` appears when the keys move to the repository).
 */
export function holdsProtectedPath(path: string): boolean {
  return PROTECTED_ROOTS.some((r) => ancestorsAndSelf(r).includes(path)) || isProtectedPath(path);
}

/** Whether `path` lies in a subtree only administrators may see. */
export function isAdminOnlyPath(path: string): boolean {
  return ADMIN_ONLY_ROOTS.some((r) => isSameOrDescendant(path, r));
}
