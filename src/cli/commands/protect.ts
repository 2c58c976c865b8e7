import type { Command } from 'commander';
import { CryptoError } from '../../crypto/errors.js';
import { fail } from '../fail.js';
import { keyFlags, withKeyLocation } from '../key-location.js';

/**
 * The text to work on: the argument, or standard input when it is `-` or absent (piped in, or
 * typed without echo on a terminal). A secret given as an argument is visible to other users
 * (`ps`) and stays in the shell history: standard input keeps it out of both.
 */
async function argumentOrInput(arg: string | undefined, prompt: string): Promise<string> {
  if (arg !== undefined && arg !== '-') return arg;
  const { readInput } = await import('../read-input.js');
  const value = await readInput(prompt);
  if (value === '') {
    throw new CryptoError(
      'invalid_request',
      'nothing on standard input: pipe the value in (printf %s "$SECRET" | latchkey protect) or type it',
    );
  }
  return value;
}

/** `latchkey protect [TEXT|-]` and `latchkey unprotect [VALUE|-]` with a data folder's keys. */
export function protectCommands(program: Command) {
  keyFlags(
    program
      .command('protect')
      .description(
        'seal a value with the master key; the value comes from standard input (piped, or typed without echo), or from TEXT',
      )
      .argument('[text]', 'the value; - or nothing: read it from standard input'),
  ).action(async (text: string | undefined, opts: Record<string, string | undefined>) => {
    try {
      const { loadKeyring } = await import('../../crypto/load-keyring.js');
      const { protect } = await import('../../crypto/protect.js');
      await withKeyLocation(opts, async (loc) => {
        // The keys first: a folder without keys fails before anyone types a secret.
        const keyring = await loadKeyring(loc, { initialize: false });
        const value = await argumentOrInput(text, 'value to protect (not shown): ');
        process.stdout.write(`${protect(keyring, value)}\n`);
      });
    } catch (err) {
      fail(err);
    }
  });
  keyFlags(
    program
      .command('unprotect')
      .description('open a protected VALUE (latchkey or AEM format), given or on standard input')
      .argument('[value]', 'the protected value; - or nothing: read it from standard input'),
  ).action(async (value: string | undefined, opts: Record<string, string | undefined>) => {
    try {
      const { loadKeyring } = await import('../../crypto/load-keyring.js');
      const { unprotect } = await import('../../crypto/unprotect.js');
      await withKeyLocation(opts, async (loc) => {
        const keyring = await loadKeyring(loc, { initialize: false });
        const sealed = (await argumentOrInput(value, 'protected value: ')).trim();
        process.stdout.write(`${unprotect(keyring, sealed)}\n`);
      });
    } catch (err) {
      fail(err);
    }
  });
}
