import type { Command } from 'commander';
import { formatLine } from '../../audit/format.js';
import type { AuditLine } from '../../audit/types.js';
import { DataFolderError, LatchkeyError } from '../../errors.js';
import { fail } from '../fail.js';

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
        const { parseAuditFilter } = await import('../../audit/filter.js');
        const filter = parseAuditFilter(
          {
            since: opts['since'] as string | undefined,
            until: opts['until'] as string | undefined,
            user: opts['user'] as string | undefined,
            type: opts['type'] as string | undefined,
          },
          { since: '--since', until: '--until', type: '--type' },
        );
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
