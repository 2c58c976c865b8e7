import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/process.js';

// The README's Commands table lists every command `latchkey --help` shows (recursively), each
// with the flags its --help lists: in its row, or among the flags the section says most commands
// share (--data, --db, --role, --config), or, for the server commands, in the flags table.
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(
  readme.indexOf('\n## Commands\n'),
  readme.indexOf('\n## ', readme.indexOf('\n## Commands\n') + 1),
);
const serverFlags = section.slice(section.indexOf('Flags of `serve`'));
const commandsPart = section.slice(0, section.indexOf('Flags of `serve`'));
const rows = commandsPart.split('\n').filter((l) => l.startsWith('| `latchkey '));
const prose = commandsPart
  .split('\n')
  .filter((l) => !l.startsWith('|'))
  .join('\n');

/** The commands a help text lists (without `help`). */
function subcommands(help: string): string[] {
  const at = help.indexOf('\nCommands:\n');
  if (at === -1) return [];
  return help
    .slice(at + '\nCommands:\n'.length)
    .split('\n')
    .map((l) => /^ {2}([a-z][\w-]*)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined && n !== 'help');
}

/** The long flags a help text lists (without --help, and --json, which the section covers). */
function flags(help: string): string[] {
  const at = help.indexOf('\nOptions:\n');
  if (at === -1) return [];
  const end = help.indexOf('\nCommands:\n');
  return help
    .slice(at, end === -1 ? undefined : end)
    .split('\n')
    .map((l) => /^ {2}(?:-\w, )?(--[\w-]+)/.exec(l)?.[1])
    .filter((f): f is string => f !== undefined && !['--help', '--json', '--version'].includes(f));
}

async function help(path: string[]): Promise<string> {
  const r = await runCli([...path, '--help']);
  expect(r.code, `${path.join(' ')} --help: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** Every command that runs something (not a group of commands), with its flags. */
async function leaves(path: string[] = []): Promise<{ path: string; flags: string[] }[]> {
  const text = await help(path);
  const subs = subcommands(text);
  if (subs.length === 0) return [{ path: path.join(' '), flags: flags(text) }];
  const found = [];
  for (const sub of subs) found.push(...(await leaves([...path, sub])));
  return found;
}

describe("the README's Commands table", () => {
  let all: Promise<{ path: string; flags: string[] }[]> | undefined;
  const commandsOnce = () => {
    all ??= leaves();
    return all;
  };

  it('lists every command with its flags', async () => {
    const commands = await commandsOnce();
    expect(commands.length).toBeGreaterThan(30);
    const missing: string[] = [];
    for (const command of commands) {
      const mine = rows.filter((r) => new RegExp(`\`latchkey ${command.path}(?![\\w-])`).test(r));
      if (mine.length === 0) {
        missing.push(`latchkey ${command.path}`);
        continue;
      }
      const documented = [
        ...mine,
        prose,
        ...(['serve', 'config print'].includes(command.path) ? [serverFlags] : []),
      ].join('\n');
      for (const flag of command.flags) {
        if (!new RegExp(`${flag}(?![\\w-])`).test(documented))
          missing.push(`latchkey ${command.path} ${flag}`);
      }
    }
    expect(missing).toEqual([]);
  }, 300_000);

  it('names no command latchkey does not have', async () => {
    const commands = new Set((await commandsOnce()).map((c) => c.path));
    const named = rows.flatMap((r) =>
      [...r.matchAll(/`latchkey ([a-z][\w-]*(?: [a-z][\w-]*)?)/g)].map((m) => m[1]!),
    );
    const unknown = named.filter((n) => !commands.has(n) && !commands.has(n.split(' ')[0]!));
    expect(unknown).toEqual([]);
  }, 300_000);
});
