#!/usr/bin/env node
/**
 * The `latchkey` command. Start-up time is part of the interface (scripts call it in loops), so
 * this file and the command files register commands, flags and help text only: every command
 * loads what it runs with `await import(…)` inside its action. `latchkey --help` or
 * `latchkey keys status` never load the HTTP server, the PostgreSQL driver or the JWT library.
 * A new command follows the same pattern (a test in test/cli/startup.test.ts checks it).
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { adminCommands } from './commands/admin.js';
import { aemCommands } from './commands/aem.js';
import { auditCommand } from './commands/audit.js';
import { configCommand } from './commands/config.js';
import { credentialsCommands } from './commands/credentials.js';
import { farmCommands } from './commands/farm.js';
import { imsCommands } from './commands/ims.js';
import { keysChangeCommands } from './commands/keys-change.js';
import { keysInspectCommands } from './commands/keys-inspect.js';
import { keysTransferCommands } from './commands/keys-transfer.js';
import { protectCommands } from './commands/protect.js';
import { serveCommand } from './commands/serve.js';
import { startCommand } from './commands/start.js';
import { tokenCommands } from './commands/token.js';
import { usersCommands } from './commands/users.js';

// Whatever latchkey writes (stores, keys, credentials, bundles) is for this user only, also
// what a library or SQLite creates on its own.
process.umask(0o077);

// package.json sits two levels up, from dist/cli/ as from src/cli/.
const { version } = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { version: string };

const program = new Command();
program
  .name('latchkey')
  .version(version, '-V, --version', 'print the version of latchkey')
  .description(
    'Durable crypto keys, stateless login tokens and server-to-server access tokens for a farm of content servers.',
  )
  .showHelpAfterError()
  .configureOutput({
    outputError: (str, write) => write(`latchkey: ${str.replace(/^error: /, '')}`),
  })
  .exitOverride((err) => {
    // Usage errors exit 2; --help and --version exit 0.
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

startCommand(program);
serveCommand(program);
configCommand(program);
const keys = program
  .command('keys')
  .description('crypto keys: status, migration, rotation, export and import');
keysInspectCommands(keys);
keysChangeCommands(keys);
keysTransferCommands(keys);
farmCommands(program, keys);
protectCommands(program);
aemCommands(program);
credentialsCommands(program);
tokenCommands(program);
imsCommands(program);
usersCommands(program);
adminCommands(program);
auditCommand(program);

await program.parseAsync(process.argv);
