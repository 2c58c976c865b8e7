/**
 * Range bounds shared by the backends. Both compare keys byte-wise (SQLite's BINARY collation,
 * PostgreSQL's "C" collation on these columns), so "starts with P" is the half-open range
 * [P, upper(P)) and an index serves it; LIKE would need escaping and may skip the index.
 */

/** The smallest string greater than every string starting with `prefix` (undefined: none). */
export function prefixUpperBound(prefix: string): string | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const code = prefix.charCodeAt(i);
    if (code < 0xffff) return prefix.slice(0, i) + String.fromCharCode(code + 1);
  }
  return undefined;
}

/** Descendants of `path` are the paths in the open range (lower, upper). */
export function descendantRange(path: string): { lower: string; upper: string } {
  const lower = path === '/' ? '/' : `${path}/`;
  // '/' + 1 is '0': every descendant of /a/b sorts in ('/a/b/', '/a/b0'); of / in ('/', '0').
  return { lower, upper: `${lower.slice(0, -1)}0` };
}

/** Number of segments: `/` is 0, `/a` is 1, `/a/b` is 2. */
export function depthOf(path: string): number {
  if (path === '/') return 0;
  let n = 0;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 47) n++;
  return n;
}

export function parentOf(path: string): string | null {
  if (path === '/') return null;
  const i = path.lastIndexOf('/');
  return i === 0 ? '/' : path.slice(0, i);
}
