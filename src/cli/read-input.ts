/**
 * A value a command takes from standard input rather than from its arguments, where other users
 * could read it (`ps`, shell history): everything piped in, less one trailing line break; on a
 * terminal, one line typed after `prompt` without echo.
 */
export async function readInput(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  let line = '';
  try {
    return await new Promise<string>((resolve, reject) => {
      const onData = (text: string) => {
        for (const ch of text) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') {
            stdin.off('data', onData);
            return resolve(line);
          }
          if (ch === '\u0003') {
            stdin.off('data', onData);
            return reject(new Error('interrupted'));
          }
          if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
          else line += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}
