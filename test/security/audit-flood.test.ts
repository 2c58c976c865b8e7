import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, formBody, http } from '../helpers/http.js';
import { type Server, startServer } from '../helpers/process.js';

/**
 * An unauthenticated attacker filling the audit log: refusals it can repeat at will were written
 * once a minute per actor, target and details, but all three are the attacker's to choose (an
 * `Origin` and a path per forged write, a made-up user name per guess once its address is
 * throttled), so every request wrote a line of its own, enough to rotate the real events out of
 * the log within seconds. Now one address gets at most ten lines of a kind a minute; the rest
 * are one line with a count.
 */
const PASSWORD = 'audit-flood-admin-password';
let data: string;
let author: Server;

beforeAll(async () => {
  data = mkdtempSync(join(tmpdir(), 'lk-audit-flood-'));
  author = await startServer(['serve', 'author', '--port', '0', '--data', data], {
    LATCHKEY_ADMIN_PASSWORD: PASSWORD,
  });
}, 60_000);
afterAll(async () => {
  await author?.stop();
  rmSync(data, { recursive: true, force: true });
});

interface Line {
  type: string;
  actor: string;
  target?: string;
  address?: string;
  count?: number;
  details?: Record<string, unknown>;
}
const auditLines = (): Line[] =>
  readFileSync(join(data, 'audit', 'audit.log'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
const from = (lines: Line[], type: string, address: string) =>
  lines.filter((l) => l.type === type && l.address === address);

/** `n` requests, `batch` at a time. */
async function flood(n: number, batch: number, send: (i: number) => Promise<unknown>) {
  for (let i = 0; i < n; i += batch)
    await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, j) => send(i + j)));
}

describe('audit log flood', () => {
  it('forged writes with a new Origin and path each: ten lines a minute, the rest counted', async () => {
    const attacker = '127.0.0.2';
    await flood(300, 30, (i) =>
      http(`${author.url}/content/flood-${i}`, {
        method: 'POST',
        ...formBody([['x', '1']]),
        headers: {
          ...formBody([]).headers,
          authorization: basicAuth('admin', PASSWORD),
          origin: `http://evil-${i}.example`,
        },
        localAddress: attacker,
      }).then((r) => expect(r.status).toBe(403)),
    );
    expect(from(auditLines(), 'csrf.refused', attacker).length).toBeLessThanOrEqual(10);
  });

  it('a throttled address guessing a new user name each time: ten lines a minute', async () => {
    const attacker = '127.0.0.3';
    const statuses: number[] = [];
    await flood(200, 20, (i) =>
      http(`${author.url}/content.json`, {
        headers: { authorization: basicAuth(`made-up-${i}`, 'guess') },
        localAddress: attacker,
      }).then((r) => statuses.push(r.status)),
    );
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(100);
    const lines = auditLines();
    // The failures themselves are bounded by the throttle (20 per address and window).
    expect(from(lines, 'login', attacker).length).toBeLessThanOrEqual(20);
    expect(from(lines, 'throttle.refused', attacker).length).toBeLessThanOrEqual(10);
  });

  it('another address is not folded into the flood, and stopping writes the counts', async () => {
    const other = '127.0.0.4';
    const res = await http(`${author.url}/content/other`, {
      method: 'POST',
      ...formBody([['x', '1']]),
      headers: {
        ...formBody([]).headers,
        authorization: basicAuth('admin', PASSWORD),
        origin: 'http://evil.example',
      },
      localAddress: other,
    });
    expect(res.status).toBe(403);
    expect(from(auditLines(), 'csrf.refused', other)).toEqual([
      expect.objectContaining({
        details: expect.objectContaining({ origin: 'http://evil.example' }),
      }),
    ]);
    await author.stop();
    const lines = auditLines();
    const counted = (type: string, address: string) =>
      from(lines, type, address).reduce((n, l) => n + (l.count ?? 1), 0);
    // Every refusal is accounted for, in a bounded number of lines.
    expect(counted('csrf.refused', '127.0.0.2')).toBe(300);
    expect(from(lines, 'csrf.refused', '127.0.0.2').length).toBeLessThanOrEqual(11);
    const folded = from(lines, 'csrf.refused', '127.0.0.2').find((l) => l.details?.['folded']);
    expect(folded?.count).toBe(290);
    expect(from(lines, 'throttle.refused', '127.0.0.3').length).toBeLessThanOrEqual(11);
  });
});
