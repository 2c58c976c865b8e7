import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type AuditFilterError, parseAuditFilter } from '../../src/audit/filter.js';
import { readAuditPage } from '../../src/audit/page.js';
import type { AuditSource } from '../../src/audit/read.js';
import { StoreSink } from '../../src/audit/store-sink.js';
import type { AuditLine } from '../../src/audit/types.js';
import { openStore } from '../../src/store/open.js';

// Paging through an audit log newest first, as the System Console's Audit tab does: every line
// exactly once, also when many share one millisecond, from a file and from a store.

const root = mkdtempSync(join(tmpdir(), 'lk-audit-page-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** 23 lines: three share each of some instants, in the order a log would hold them. */
const LINES: AuditLine[] = Array.from({ length: 23 }, (_, i) => ({
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, Math.floor(i / 3))).toISOString(),
  type: i % 2 ? 'login' : 'user.created',
  outcome: 'success',
  actor: `user${i}`,
  role: 'author',
  instance: 'h:4502',
}));

async function everyPage(source: AuditSource, size: number, filter = {}) {
  const seen: string[] = [];
  let before: string | undefined;
  for (let pages = 0; pages < 50; pages++) {
    const page = await readAuditPage(source, filter, { size, before });
    expect(page.lines.length).toBeLessThanOrEqual(size);
    seen.push(...page.lines.map((l) => l.actor));
    if (!page.next) return { seen, pages: pages + 1 };
    before = page.next;
  }
  throw new Error('paging did not end');
}

const newestFirst = (lines: AuditLine[]) => lines.map((l) => l.actor).reverse();

describe('readAuditPage', () => {
  const dir = join(root, 'audit');
  mkdirSync(dir);
  writeFileSync(join(dir, 'audit.log'), LINES.map((l) => `${JSON.stringify(l)}\n`).join(''));
  const file: AuditSource = { kind: 'file', dir };

  it('gives every line once, newest first, whatever the page size (file)', async () => {
    for (const size of [1, 2, 3, 4, 7, 23, 50]) {
      const { seen, pages } = await everyPage(file, size);
      expect(seen, `size ${size}`).toEqual(newestFirst(LINES));
      expect(pages).toBe(Math.max(1, Math.ceil(LINES.length / size)));
    }
  });

  it('pages within a filter', async () => {
    const { seen } = await everyPage(file, 2, { types: ['login'] });
    expect(seen).toEqual(newestFirst(LINES.filter((l) => l.type === 'login')));
    const until = Date.parse(LINES[10]!.time);
    const { seen: older } = await everyPage(file, 4, { until });
    expect(older).toEqual(newestFirst(LINES.filter((l) => Date.parse(l.time) <= until)));
  });

  it('gives every line once from a store too', async () => {
    const store = await openStore(`sqlite:${join(root, 'store.sqlite')}`);
    try {
      const sink = new StoreSink(store, 3600_000 * 24 * 365 * 10);
      for (const l of LINES) await sink.append(l);
      const { seen } = await everyPage({ kind: 'store', store }, 4);
      // Lines of one instant come in key order there: compare as sets per instant.
      expect(seen.length).toBe(LINES.length);
      expect(new Set(seen).size).toBe(LINES.length);
      expect(seen.slice(0, 2).sort()).toEqual(['user21', 'user22']);
    } finally {
      await store.close();
    }
  });

  it('refuses a damaged page link', async () => {
    await expect(readAuditPage(file, {}, { size: 5, before: 'x' })).rejects.toMatchObject({
      code: 'invalid_request',
    });
  });
});

describe('parseAuditFilter', () => {
  const labels = { since: 'Since', until: 'Until', type: 'Type' };
  it('reads dates, times ago, users and types; empty inputs filter nothing', () => {
    const now = Date.UTC(2026, 4, 2);
    expect(
      parseAuditFilter(
        { since: '2h', until: '2026-05-03', user: ' alice ', type: 'keys' },
        labels,
        now,
      ),
    ).toEqual({
      since: now - 2 * 3600_000,
      until: Date.UTC(2026, 4, 3),
      user: 'alice',
      types: ['keys'],
    });
    expect(parseAuditFilter({ since: '', until: ' ', user: '', type: '' }, labels)).toEqual({
      since: undefined,
      until: undefined,
      user: undefined,
      types: undefined,
    });
  });

  it('names the input that cannot be read', () => {
    const bad = (input: Record<string, string>) => {
      try {
        parseAuditFilter(input, labels);
      } catch (err) {
        return err as AuditFilterError;
      }
      throw new Error('no error');
    };
    expect(bad({ since: 'yesterday' })).toMatchObject({
      field: 'since',
      code: 'invalid_request',
      message: expect.stringMatching(/^Since takes a date or time/),
    });
    expect(bad({ until: '2026-13-45' }).field).toBe('until');
    expect(bad({ type: 'login,nothing' })).toMatchObject({
      field: 'type',
      message: expect.stringMatching(/^Type: no event type "nothing"/),
    });
  });
});
