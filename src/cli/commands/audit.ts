import type { Command } from 'commander';
import type { AuditLine } from '../../audit/types.js';
import { DataFolderError, LatchkeyError } from '../../errors.js';
import { fail } from '../fail.js';

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `2026-05-01`, `2026-05-01T10:00:00Z`, or a time ago: `30s`, `15m`, `2h`, `7d`. */
export function parseWhen(text: string, flag: string, now = Date.now()): number {
  const ago = /^(\d{1,9})([smhd])$/.exec(text.trim());
  if (ago) return now - Number(ago[1]) * UNITS[ago[2]!]!;
  const at = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())
    ? Date.parse(text.trim())
    : Number.NaN;
  if (Number.isNaN(at)) {
    throw new LatchkeyError(
      'invalid_request',
      `${flag} takes a date or time (2026-05-01, 2026-05-01T10:00:00Z) or a time ago (30s, 15m, 2h, 7d), got ${JSON.stringify(text.slice(0, 60))}`,
    );
  }
  return at;
}

/** One line for people: time, type, outcome, who, on what, from where, then the details. */
export function formatLine(line: AuditLine): string {
  const parts = [line.time, line.type, line.outcome, `actor=${line.actor}`];
  if (line.target !== undefined) parts.push(`target=${line.target}`);
  if (line.address !== undefined) parts.push(`from=${line.address}`);
  parts.push(`${line.role}@${line.instance}`);
  for (const [k, v] of Object.entries(line.details ?? {})) {
    parts.push(`${k}=${Array.isArray(v) ? v.join(',') : String(v)}`);
  }
  if (line.count !== undefined) parts.push(`count=${line.count}`);
  return parts.join(' ');
}

/** `latchkey audit`: reads, filters and follows the audit log. */
export function auditCommand(program: Command) {
  program
    .command('audit')
    .description(
      'read the audit log (security events) of a data folder, or of a shared store with --db',
    )
    .option('--data <dir>', 'data folder (default ./latchkey-data)')
    .option('--db <url>', 'a shared store (postgres://…) whose audit log to read')
    .option('--config <file>', 'JSON configuration file')
    .option('--since <when>', 'from this date/time, or this long ago (30s, 15m, 2h, 7d)')
    .option('--until <when>', 'up to this date/time, or this long ago')
    .option('--user <id>', 'only events whose actor or target is this user or client id')
    .option(
      '--type <types>',
      'only these types, comma-separated: login, keys.rotated, or a group such as keys',
    )
    .option('--limit <n>', 'only the newest N matching events')
    .option('--json', 'print the lines as stored (JSON, one per line)')
    .option('-f, --follow', 'keep printing new events as they are written (Ctrl-C stops)')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      try {
        const { AUDIT_TYPES } = await import('../../audit/types.js');
        const filter = {
          since: opts['since'] ? parseWhen(String(opts['since']), '--since') : undefined,
          until: opts['until'] ? parseWhen(String(opts['until']), '--until') : undefined,
          user: opts['user'] ? String(opts['user']) : undefined,
          types: opts['type']
            ? String(opts['type'])
                .split(',')
                .map((t) => t.trim())
                .filter(Boolean)
            : undefined,
        };
        for (const t of filter.types ?? []) {
          if (!AUDIT_TYPES.some((known) => known === t || known.startsWith(`${t}.`))) {
            throw new LatchkeyError(
              'invalid_request',
              `--type: no event type ${JSON.stringify(t)}; types: ${AUDIT_TYPES.join(', ')}`,
            );
          }
        }
        let limit: number | undefined;
        if (opts['limit'] !== undefined) {
          limit = Number(opts['limit']);
          if (!Number.isInteger(limit) || limit < 1)
            throw new LatchkeyError('invalid_request', '--limit takes a positive integer');
        }
        const print = (line: AuditLine) =>
          process.stdout.write(`${opts['json'] ? JSON.stringify(line) : formatLine(line)}\n`);

        const { loadConfig } = await import('../../config/load.js');
        const { auditDirOf } = await import('../../audit/open.js');
        const { followAudit, readAudit } = await import('../../audit/read.js');
        const config = loadConfig({
          flags: { data: opts['data'], db: opts['db'] },
          file: opts['config'] as string | undefined,
        });
        // The embedded stores keep their audit log in the data folder; a shared one in itself.
        const shared = /^postgres(ql)?:/.test(config.db);
        if (!shared) {
          const { requireDataFolder } = await import('../../data-folder/stores-in-folder.js');
          requireDataFolder(config.data, 'audit');
        }
        const store = shared ? await openSharedStore(config.db) : undefined;
        try {
          const source = store
            ? { kind: 'store' as const, store }
            : { kind: 'file' as const, dir: auditDirOf(config.data) };
          for (const line of await readAudit(source, filter, limit ? { limit } : {})) print(line);
          if (!opts['follow']) return;
          const stop = new AbortController();
          const end = () => stop.abort();
          process.once('SIGINT', end);
          process.once('SIGTERM', end);
          for await (const line of followAudit(source, filter, { signal: stop.signal })) {
            print(line);
          }
        } finally {
          await store?.close();
        }
      } catch (err) {
        fail(err);
      }
    });
}

/** The shared store whose audit log to read; one that does not exist is not created. */
async function openSharedStore(url: string) {
  const { openStore } = await import('../../store/open.js');
  try {
    return await openStore(url, { create: false });
  } catch (err) {
    if (err instanceof LatchkeyError && err.code === 'no_store')
      throw new DataFolderError('no_store', `${err.message}: check --db`);
    throw err;
  }
}
