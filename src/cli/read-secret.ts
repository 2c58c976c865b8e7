import { LatchkeyError } from '../errors.js';

/**
 * A secret from the person at the terminal or from a pipe, never from the command line (where
 * other local users see it in the process list and it stays in the shell's history):
 * - stdin a terminal: asks `prompt` on stderr without echo; with `confirm` (a new password) twice,
 *   and insists they match;
 * - stdin a pipe or file: reads all of it, one trailing line break removed.
 * Empty: an error. Ctrl-C at the prompt ends the process (exit 130), changing nothing.
 */
export async function readSecret(prompt: string, confirm?: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
    if (text === '') throw new LatchkeyError('invalid_password', 'no password on stdin');
    return text;
  }
  const first = await promptHidden(prompt);
  if (first === '') throw new LatchkeyError('invalid_password', 'the password must not be empty');
  if (confirm === undefined) return first;
  const second = await promptHidden(confirm);
  if (second !== first) throw new LatchkeyError('invalid_password', 'the passwords differ');
  return first;
}

/** One line typed at the terminal, not echoed (raw mode: the characters are handled here). */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  // No echo before the prompt shows: whatever is typed once it is visible stays hidden.
  stdin.setRawMode(true);
  stdin.resume();
  process.stderr.write(prompt);
  return new Promise((resolve) => {
    let text = '';
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (data: Buffer) => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done();
          return resolve(text);
        }
        if (ch === '\u0003') {
          // Ctrl-C: nothing was changed.
          done();
          process.exit(130);
        }
        if (ch === '\u0004' && text === '') {
          // Ctrl-D on an empty line: no password.
          done();
          return resolve('');
        }
        if (ch === '\u007f' || ch === '\b') text = [...text].slice(0, -1).join('');
        else if (ch >= ' ') text += ch;
      }
    };
    stdin.on('data', onData);
  });
}
