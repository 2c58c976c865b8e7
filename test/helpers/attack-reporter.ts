import { appendFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';
import type { Tally } from '../attack/campaign.js';

/**
 * Prints the attack campaign's counts, one row per suite, and their total: cases tried, accepted
 * (genuine inputs), refused, forgeries accepted, crashes (5xx or an exception that is not one of
 * latchkey's typed errors) and hangs. With ATTACK_REPORT=FILE, the rows are also appended to FILE
 * as JSON lines (what SECURITY.md's figures are taken from).
 */
export default class AttackReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const rows: Tally[] = [];
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const tally = test.meta().attack;
        if (tally) rows.push(tally);
      }
    }
    if (rows.length === 0) return;
    rows.sort((a, b) => a.suite.localeCompare(b.suite));
    const total: Tally = {
      suite: 'total',
      cases: 0,
      accepted: 0,
      refused: 0,
      forgeries: 0,
      crashes: 0,
      hangs: 0,
    };
    for (const r of rows) {
      total.cases += r.cases;
      total.accepted += r.accepted;
      total.refused += r.refused;
      total.forgeries += r.forgeries;
      total.crashes += r.crashes;
      total.hangs += r.hangs;
    }
    const width = Math.max(...rows.map((r) => r.suite.length), 5);
    const cols = ['cases', 'accepted', 'refused', 'forgeries', 'crashes', 'hangs'] as const;
    const line = (r: Tally) =>
      `${r.suite.padEnd(width)}  ${cols.map((c) => String(r[c]).padStart(c.length)).join('  ')}`;
    const out = [
      '',
      `${'suite'.padEnd(width)}  ${cols.join('  ')}`,
      ...rows.map(line),
      line(total),
      '',
    ].join('\n');
    process.stdout.write(out);
    const file = process.env['ATTACK_REPORT'];
    if (file) appendFileSync(file, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }
}
