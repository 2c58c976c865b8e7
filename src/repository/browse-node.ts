import { KEY_NODE } from '../crypto/storage/repository.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import type { Json } from '../store/types.js';
import { isAllowed } from './acl/evaluate.js';
import type { RepositoryContext } from './context.js';
import { HIDDEN_NODES, HIDDEN_PROPERTIES, isHidden } from './hidden.js';
import { ancestorsAndSelf, childPath, isSameOrDescendant, nameOf } from './path.js';
import { assertWritable } from './post-node.js';
import { formatSlingDate, fromStored, type PropertyType } from './properties.js';
import type { Subject } from './subject.js';

/** A property as a repository browser shows it: typed values as text, a Binary by its size only. */
export interface BrowsedProperty {
  readonly name: string;
  readonly type: PropertyType;
  readonly multiple: boolean;
  /** The values as text; empty for a Binary (its bytes are never shown). */
  readonly values: readonly string[];
  /** A Binary's size in bytes and whether this subject may download it. */
  readonly binary?: { readonly size: number; readonly downloadable: boolean };
}

export interface BrowsedNode {
  readonly path: string;
  /** The ancestors, root first, and whether the subject may read each (a browser links those). */
  readonly ancestors: readonly { readonly path: string; readonly readable: boolean }[];
  readonly primaryType: string;
  readonly properties: readonly BrowsedProperty[];
  /** Readable children, in order, at most `maxChildren` (`moreChildren` says if others exist). */
  readonly children: readonly {
    readonly name: string;
    readonly path: string;
    readonly primaryType: string;
  }[];
  readonly moreChildren: boolean;
  /** Whether the subject may change this node's properties. */
  readonly writable: boolean;
}

/**
 * Key material lives as Binary properties of `/etc/key` (repository key storage): only
 * administrators may download them, whatever an ACL grants; nobody sees them in a page.
 */
function mayDownload(subject: Subject, path: string): boolean {
  return subject.admin || !isSameOrDescendant(path, KEY_NODE);
}

function textOf(type: PropertyType, v: string | number | boolean): string {
  return type === 'Date' ? formatSlingDate(String(v)) : String(v);
}

/**
 * A node for a repository browser (CRXDE's tree and property table), as `subject` may see it:
 * a node it may not read is a 404 like a missing one, unreadable children are left out, and
 * hidden properties and nodes (password hashes, token stores) never appear.
 *
 * @example
 * ```ts
 * const node = await browseNode(ctx, subject, '/content/dam');
 * for (const c of node.children) console.log(c.name, c.primaryType);
 * ```
 */
export async function browseNode(
  ctx: RepositoryContext,
  subject: Subject,
  path: string,
  options: { maxChildren?: number } = {},
): Promise<BrowsedNode> {
  const snapshot = await ctx.access.get();
  const node = await ctx.store.getNode(path);
  if (!node || isHidden(path) || !isAllowed(snapshot, subject, path, 'jcr:read'))
    throw new NotFoundError();
  const properties: BrowsedProperty[] = [];
  for (const [name, stored] of Object.entries(node.properties)) {
    if (HIDDEN_PROPERTIES.has(name)) continue;
    const p = fromStored(stored as Json);
    if (!p) continue;
    properties.push(
      p.type === 'Binary'
        ? {
            name,
            type: p.type,
            multiple: p.multiple,
            values: [],
            binary: {
              size: p.values.reduce<number>(
                (n, v) => n + Buffer.byteLength(String(v), 'base64'),
                0,
              ),
              downloadable: mayDownload(subject, path),
            },
          }
        : {
            name,
            type: p.type,
            multiple: p.multiple,
            values: p.values.map((v) => textOf(p.type, v)),
          },
    );
  }
  properties.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const max = options.maxChildren ?? 500;
  // Read one more than shown, and skip what the subject may not see.
  const rows = await ctx.store.listChildren(path, { limit: max * 4 + 1 });
  const visible = rows.filter(
    (c) => !HIDDEN_NODES.has(nameOf(c.path)) && isAllowed(snapshot, subject, c.path, 'jcr:read'),
  );
  let writable = true;
  try {
    await assertWritable(ctx, subject, path);
  } catch {
    writable = false;
  }
  return {
    path,
    ancestors: ancestorsAndSelf(path)
      .slice(0, -1)
      .map((a) => ({ path: a, readable: isAllowed(snapshot, subject, a, 'jcr:read') })),
    primaryType: node.primaryType,
    properties,
    children: visible.slice(0, max).map((c) => ({
      name: nameOf(c.path),
      path: childPath(path, nameOf(c.path)),
      primaryType: c.primaryType,
    })),
    moreChildren: visible.length > max || rows.length > max * 4,
    writable,
  };
}

/** Whether the subject may read a node (a browser's start page: the root, or the user's home). */
export async function canRead(
  ctx: RepositoryContext,
  subject: Subject,
  path: string,
): Promise<boolean> {
  return isAllowed(await ctx.access.get(), subject, path, 'jcr:read') && !isHidden(path);
}

/**
 * The bytes of a Binary property, for a download: the subject must be able to read the node,
 * and only administrators get the key material under `/etc/key`.
 */
export async function readBinaryProperty(
  ctx: RepositoryContext,
  subject: Subject,
  path: string,
  name: string,
): Promise<Buffer> {
  const snapshot = await ctx.access.get();
  const node = await ctx.store.getNode(path);
  if (!node || isHidden(path) || !isAllowed(snapshot, subject, path, 'jcr:read'))
    throw new NotFoundError();
  const p = Object.hasOwn(node.properties, name) ? fromStored(node.properties[name]!) : undefined;
  if (p?.type !== 'Binary' || HIDDEN_PROPERTIES.has(name))
    throw new NotFoundError('no binary property of that name');
  if (!mayDownload(subject, path))
    throw new ForbiddenError('key material under /etc/key is for administrators only');
  return Buffer.concat(p.values.map((v) => Buffer.from(String(v), 'base64')));
}
