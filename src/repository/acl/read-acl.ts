import type { Json } from '../../store/types.js';
import type { RepositoryContext } from '../context.js';
import { requireAdmin } from '../require-admin.js';
import type { Subject } from '../subject.js';
import { ACL_NS, type Ace } from './types.js';

/**
 * `GET <path>.acl.json`: the node's own entries, as Sling renders them, keyed by principal. A
 * principal is any name (`constructor`, `__proto__`): entries are collected in a Map and become
 * own properties, never a lookup on `Object.prototype`.
 */
export async function readAcl(
  ctx: RepositoryContext,
  actor: Subject,
  path: string,
): Promise<Record<string, Json>> {
  requireAdmin(actor, 'reading access control');
  const aces = ((await ctx.store.getRecord(ACL_NS, path))?.value ?? []) as unknown as Ace[];
  const out = new Map<
    string,
    { principal: string; granted: string[]; denied: string[]; order: number }
  >();
  aces.forEach((ace, order) => {
    const entry = out.get(ace.principal) ?? {
      principal: ace.principal,
      granted: [],
      denied: [],
      order,
    };
    out.set(ace.principal, entry);
    (ace.allow ? entry.granted : entry.denied).push(...ace.privileges);
    entry.order = order;
  });
  return Object.fromEntries(out) as unknown as Record<string, Json>;
}
