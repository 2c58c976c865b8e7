import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { LatchkeyError } from '../../src/errors.js';
import {
  decodeRequestPath,
  isSameOrDescendant,
  isValidName,
  validatePath,
} from '../../src/repository/path.js';
import { parseDepth, resolveResource } from '../../src/repository/resolve.js';
import { ADMIN, type TestInstance, testInstance } from '../helpers/instance.js';
import { anyText, campaign } from './campaign.js';

// Repository paths and selectors: every request path is decoded once and validated; what comes
// out must be a clean absolute path (no empty, `.` or `..` segment, no control character, none of
// `\ [ ] | *`), and resolving selectors must never name a node outside the requested folder.

let inst: TestInstance;
beforeAll(async () => {
  inst = await testInstance();
  for (const path of ['/content/site', '/content/site.1', '/content/a.b.c', '/content/dam'])
    await inst.app.inject({
      method: 'POST',
      url: path,
      headers: { authorization: ADMIN, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'title=x',
    });
});
afterAll(() => inst.close());

const tricky = fc.constantFrom(
  '..',
  '.',
  '%2e%2e',
  '%2E%2e',
  '%252e%252e',
  '%2f',
  '%5c',
  '\\',
  '%00',
  '%',
  '%zz',
  '%c0%ae%c0%ae',
  '%ed%a0%80',
  '\u202e',
  '.tokens',
  'a.json',
  'a.1.json',
  'a..json',
  'x.infinity.tidy.json',
  'x.-1.json',
  'x.99999.json',
  '*',
  '[0]',
  '|',
  ';',
  '__proto__',
  '',
);
const segment = fc.oneof(
  fc.string({ maxLength: 10 }),
  tricky,
  tricky,
  fc.string({ unit: 'binary', maxLength: 6 }),
);
const rawPath = fc
  .tuple(fc.array(segment, { maxLength: 8 }), fc.constantFrom('', '/', '?x=1', '#f', '/..'))
  .map(([segments, end]) => `/${segments.join('/')}${end}`);

function clean(path: string): boolean {
  if (!path.startsWith('/')) return false;
  if (path === '/') return true;
  return path
    .slice(1)
    .split('/')
    .every((s) => isValidName(s));
}

const typed = (err: unknown) => err instanceof LatchkeyError && err.status < 500;

describe('repository paths and selectors', () => {
  it('decodeRequestPath: a clean path or a typed 400/414', async ({ task }) => {
    await campaign(
      task,
      'repository path decoding',
      fc.oneof(rawPath, anyText),
      (raw) => {
        let path: string;
        try {
          path = decodeRequestPath(raw, 1024);
        } catch (err) {
          if (typed(err)) return 'refused';
          throw err;
        }
        // Validation is idempotent, and what passes it is clean.
        return clean(path) && validatePath(path, 1024) === path ? 'accepted' : 'forgery';
      },
      { sample: 500, full: 30_000 },
    );
  });

  it('selectors and extensions resolve to the requested node or an ancestor-free sibling', async ({
    task,
  }) => {
    const known = (selectors: readonly string[], ext: string) =>
      ext === 'json' && selectors.every((s) => parseDepth(s) !== undefined || s === 'tidy');
    await campaign(
      task,
      'selector resolution',
      rawPath,
      async (raw) => {
        let path: string;
        try {
          path = decodeRequestPath(raw, 1024);
        } catch (err) {
          if (typed(err)) return 'refused';
          throw err;
        }
        const r = await resolveResource(inst.store, path, known);
        // The resource is the path, or the path with selectors and extension cut off its last
        // segment: same folder, a prefix of the last name.
        const dir = path.slice(0, path.lastIndexOf('/'));
        const ok =
          r.path === path ||
          (r.path.startsWith(`${dir}/`) &&
            !r.path.slice(dir.length + 1).includes('/') &&
            path.startsWith(`${r.path}.`));
        for (const s of r.selectors) parseDepth(s);
        return ok && clean(r.path) ? 'accepted' : 'forgery';
      },
      { sample: 200, full: 5_000 },
    );
  });

  it('isSameOrDescendant never takes a sibling with a longer name for a child', async ({
    task,
  }) => {
    const name = fc.constantFrom('a', 'ab', 'a.b', 'b', 'content', 'contents');
    const path = fc.array(name, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`);
    await campaign(
      task,
      'path containment',
      fc.tuple(path, path),
      ([p, a]) => {
        const expected = p === a || p.startsWith(`${a}/`);
        return isSameOrDescendant(p, a) === expected ? 'accepted' : 'forgery';
      },
      { sample: 300, full: 10_000 },
    );
  });

  it('over HTTP: any path answers below 500, JSON, and never shows a hidden node', async ({
    task,
  }) => {
    await campaign(
      task,
      'repository paths over HTTP',
      fc.tuple(
        rawPath.filter((u) => {
          try {
            return !u.startsWith('//') && new URL(u, 'http://h').pathname.length > 0;
          } catch {
            return false;
          }
        }),
        fc.boolean(),
      ),
      async ([u, asAdmin]) => {
        const res = await inst.app.inject({
          method: 'GET',
          url: u,
          headers: asAdmin ? { authorization: ADMIN } : {},
        });
        if (res.statusCode >= 500) return 'crash';
        const body = res.body;
        // Key material and token hashes never leave the server.
        if (/rep:token\.key|"master"\s*:\s*"[A-Za-z0-9+/]{20}/.test(body)) return 'forgery';
        JSON.parse(body);
        return res.statusCode < 400 ? 'accepted' : 'refused';
      },
      { sample: 150, full: 1_000, hangMs: 10_000 },
    );
  });
});
