import { NotFoundError } from '../errors.js';
import type { Json, NodeRecord } from '../store/types.js';
import { isAllowed } from './acl/evaluate.js';
import type { RepositoryContext } from './context.js';
import { HIDDEN_NODES, HIDDEN_PROPERTIES, isHidden } from './hidden.js';
import { nameOf, parentPath } from './path.js';
import { fromStored, renderProperty, setOwn } from './properties.js';
import type { Subject } from './subject.js';

export type Rendering =
  | { readonly status: 200; readonly body: Record<string, Json> }
  /** Too many nodes: the depths that fit, deepest first, as Sling's 300 Multiple Choices. */
  | { readonly status: 300; readonly body: string[] };

function renderOwn(node: NodeRecord): Record<string, Json> {
  const out: Record<string, Json> = { 'jcr:primaryType': node.primaryType };
  for (const [name, stored] of Object.entries(node.properties)) {
    if (HIDDEN_PROPERTIES.has(name)) continue;
    const p = fromStored(stored);
    if (!p) continue;
    const [key, value] = renderProperty(name, p);
    setOwn(out, key, value);
  }
  return out;
}

/**
 * Renders a node and `depth` levels of descendants as Sling's JSON (`.json`, `.1.json`,
 * `.infinity.json`). Nodes the subject may not read are left out; an unreadable or missing node
 * is a 404. More than `ctx.maxRenderNodes` nodes gives 300 and the depths that would fit.
 */
export async function renderJson(
  ctx: RepositoryContext,
  subject: Subject,
  path: string,
  depth: number,
  node?: NodeRecord,
): Promise<Rendering> {
  const snapshot = await ctx.access.get();
  const self = node ?? (await ctx.store.getNode(path));
  if (!self || !isAllowed(snapshot, subject, path, 'jcr:read') || isHidden(path)) {
    throw new NotFoundError();
  }
  const root = renderOwn(self);
  if (depth === 0) return { status: 200, body: root };

  const max = ctx.maxRenderNodes;
  // The limit counts what the caller would see: unreadable and hidden nodes neither count nor
  // show (a 300 must not tell that a hidden subtree is large). More rows than `max` may have to
  // be read for `max` visible ones; how many is bounded.
  let fetch = max;
  for (;;) {
    const rows = await ctx.store.listDescendants(path, {
      maxDepth: Number.isFinite(depth) ? depth : 100_000,
      limit: fetch,
    });
    const visible = visibleRows(rows, path, (p) => isAllowed(snapshot, subject, p, 'jcr:read'));
    const complete = rows.length < fetch;
    if (visible.length + 1 > max || (!complete && fetch >= MAX_SCANNED_ROWS)) {
      const fits = fittingDepths(visible, path, max, complete);
      return { status: 300, body: fits.map((d) => `${path}.${d}.json`) };
    }
    if (!complete) {
      fetch = Math.min(fetch * 4, MAX_SCANNED_ROWS);
      continue;
    }
    const objects = new Map<string, Record<string, Json>>([[path, root]]);
    for (const row of visible) {
      const obj = renderOwn(row);
      setOwn(objects.get(parentPath(row.path))!, nameOf(row.path), obj);
      objects.set(row.path, obj);
    }
    return { status: 200, body: root };
  }
}

/** Most descendants read to find `maxRenderNodes` visible ones. */
const MAX_SCANNED_ROWS = 100_000;

/** The rows a rendering shows: readable, not hidden, under a shown parent; in store order. */
function visibleRows(
  rows: readonly NodeRecord[],
  path: string,
  readable: (path: string) => boolean,
): NodeRecord[] {
  const shown = new Set([path]);
  const out: NodeRecord[] = [];
  for (const row of rows) {
    if (!shown.has(parentPath(row.path)) || HIDDEN_NODES.has(nameOf(row.path))) continue;
    if (!readable(row.path)) continue;
    shown.add(row.path);
    out.push(row);
  }
  return out;
}

/**
 * Depths whose renderings stay within `max` nodes, deepest first (always includes 0), from the
 * visible descendants in level order (`complete`: all of them, else only the first ones).
 */
function fittingDepths(
  rows: readonly NodeRecord[],
  path: string,
  max: number,
  complete: boolean,
): number[] {
  const base = path === '/' ? 0 : path.split('/').length - 1;
  const perLevel = new Map<number, number>();
  for (const r of rows) {
    const level = r.path.split('/').length - 1 - base;
    perLevel.set(level, (perLevel.get(level) ?? 0) + 1);
  }
  // The last level fetched may be cut short: only levels below it are known to be complete.
  const lastLevel = Math.max(0, ...perLevel.keys()) + (complete ? 1 : 0);
  const out = [0];
  let total = 1;
  for (let level = 1; level < lastLevel; level++) {
    total += perLevel.get(level) ?? 0;
    if (total > max) break;
    out.unshift(level);
  }
  return out;
}
