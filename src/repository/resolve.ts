import { LatchkeyError } from '../errors.js';
import type { NodeRecord, StoreOps } from '../store/types.js';

export interface Resolved {
  /** The resource (node) path. */
  readonly path: string;
  readonly selectors: readonly string[];
  readonly extension: string | undefined;
  /** The node, when it exists. */
  readonly node: NodeRecord | undefined;
}

/**
 * Splits a request path into resource, selectors and extension the way Sling does: node names may
 * contain dots (`/content/dam/logo.png`), so the longest existing node wins. `/a/b.1.json` is node
 * `/a/b` with selector `1` and extension `json` unless a node `/a/b.1.json` or `/a/b.1` exists.
 * When no candidate exists, the shortest candidate whose selectors and extension `isKnown` accepts
 * is chosen (so a POST can create `/a/new` through `/a/new.json` but `/a/logo.png` as named, and
 * `/a/new.modifyAce.json` names node `/a/new`, not `/a/new.modifyAce`).
 */
export async function resolveResource(
  store: StoreOps,
  requestPath: string,
  isKnown: (selectors: readonly string[], extension: string) => boolean,
): Promise<Resolved> {
  const slash = requestPath.lastIndexOf('/');
  const dir = requestPath.slice(0, slash);
  const segment = requestPath.slice(slash + 1);

  const full = await store.getNode(requestPath);
  if (full || !segment.includes('.')) {
    return { path: requestPath, selectors: [], extension: undefined, node: full };
  }
  let fallback: Resolved | undefined;
  // A dot at index 0 starts a name (`.tokens`), never a selector.
  for (let i = segment.lastIndexOf('.'); i > 0; i = segment.lastIndexOf('.', i - 1)) {
    const parts = segment.slice(i + 1).split('.');
    const extension = parts.pop()!;
    if (extension === '' || parts.some((p) => p === '')) continue;
    const path = `${dir}/${segment.slice(0, i)}`;
    const node = await store.getNode(path);
    if (node) return { path, selectors: parts, extension, node };
    if (isKnown(parts, extension)) fallback = { path, selectors: parts, extension, node };
  }
  return fallback ?? { path: requestPath, selectors: [], extension: undefined, node: undefined };
}

/** Parses a depth selector: a non-negative integer, `infinity` or `-1`. */
export function parseDepth(selector: string): number | undefined {
  if (selector === 'infinity' || selector === '-1') return Number.POSITIVE_INFINITY;
  if (/^\d{1,4}$/.test(selector)) return Number(selector);
  return undefined;
}

export function invalidSelector(message: string): LatchkeyError {
  return new LatchkeyError('invalid_selector', message, 400);
}
