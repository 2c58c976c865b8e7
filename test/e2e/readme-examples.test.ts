import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  freshCheckout,
  PASSWORD,
  startAsUser,
  urlOf,
  userEnv,
  withDefaultPorts,
} from '../helpers/quick-start.js';

// The README's shell examples, run in the order the README prints them, against a real
// `latchkey start` in a fresh checkout, so that docs and behaviour cannot drift. The blocks run
// are those the README marks with MARK on the line before their ```sh fence. They run in one
// bash, as a user pastes them one after another, with only what a user supplies: the admin
// password the start printed ($PW), the author's address ($LK; as the README says), a secret to
// protect ($SECRET), and `latchkey` / `npx latchkey` being this checkout's CLI (README:
// "node dist/cli/main.js in a checkout"). Every command must succeed, and curl fails on an HTTP
// error status (--fail-with-body), so an example that stops working fails this test.

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MARK = '<!-- tested in order by test/e2e/readme-examples.test.ts -->';

interface Block {
  readonly line: number;
  readonly section: string;
  readonly code: string;
}

/** The marked ```sh blocks of the README, in order. */
function markedBlocks(readme: string): Block[] {
  const lines = readme.split('\n');
  const blocks: Block[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    if (/^#{2,4} /.test(lines[i]!)) section = lines[i]!.replace(/^#+ /, '');
    if (lines[i] !== MARK) continue;
    expect(lines[i + 1], `README line ${i + 2}: the mark must precede a \`\`\`sh fence`).toBe(
      '```sh',
    );
    const end = lines.indexOf('```', i + 2);
    blocks.push({ line: i + 3, section, code: lines.slice(i + 2, end).join('\n') });
  }
  return blocks;
}

const checkout = freshCheckout();
afterAll(() => rmSync(checkout, { recursive: true, force: true }));

function bash(script: string, env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd: checkout, env: userEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.stdin.end();
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the README examples', () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const blocks = markedBlocks(readme);

  it('are marked in the sections users follow', () => {
    const sections = new Set(blocks.map((b) => b.section));
    for (const section of [
      'Health',
      'Reading content',
      'Writing content',
      'Access control',
      "Users and groups (AEM's user admin endpoint)",
      'Login and tokens',
      'Server-to-server access (IMS)',
      'Key commands',
      'Protected values',
    ])
      expect(sections, section).toContain(section);
  });

  it('run in order, as printed, against latchkey start', async () => {
    await withDefaultPorts(async () => {
      const { proc } = await startAsUser(checkout);
      try {
        await proc.waitFor(/Ctrl-C stops latchkey.*\n/);
        const out = proc.stdout();
        const password = PASSWORD.exec(out)?.[1];
        expect(password, out).toBeDefined();
        const author = urlOf(out, 'author');
        const ims = urlOf(out, 'ims');
        // The README's quick start shows the banner as it is (the password, the checkout's
        // folder and, when another program held a default port, the addresses aside).
        const sample = /```\n(latchkey ims listening[\s\S]*?\n)```/.exec(readme)?.[1];
        expect(sample, 'the quick start shows the banner').toBeDefined();
        const bannerStart = out.indexOf('latchkey ims listening');
        const bannerEnd = out.indexOf('\n', out.search(/Ctrl-C stops latchkey/)) + 1;
        const banner = out
          .slice(bannerStart, bannerEnd)
          .replace(password!, PASSWORD.exec(sample!)![1]!)
          .replaceAll(author, 'http://127.0.0.1:4502')
          .replaceAll(ims, ims.replace(/:\d+$/, ':4510'))
          // The checkout's folder, where the sample has its own.
          .replaceAll(checkout, /(\/\S+?)\/latchkey-data\//.exec(sample!)?.[1] ?? checkout);
        expect(banner).toBe(sample);
        const env: Record<string, string> = {
          LK: author,
          PW: password!,
          SECRET: 'p8e-secret',
          CLI: join(checkout, 'dist/cli/main.js'),
        };
        // The IMS speaks HTTPS with the data folder's CA: the examples say how to trust it
        // (NODE_EXTRA_CA_CERTS, curl --cacert) where they call it, so nothing is trusted here.
        // The README's literal addresses are the default ports; a user who had to choose others
        // (another program held one) types theirs instead. Only the port: the scheme and host are
        // the README's.
        const port = (url: string) => new URL(url).port;
        const literal = (code: string) =>
          code
            .replace(/(https?:\/\/(?:localhost|127\.0\.0\.1)):4502\b/g, `$1:${port(author)}`)
            .replace(/(https?:\/\/(?:localhost|127\.0\.0\.1)):4510\b/g, `$1:${port(ims)}`);
        const script = [
          'set -euo pipefail',
          'latchkey() { node "$CLI" "$@"; }',
          'npx() { if [ "$1" = latchkey ]; then shift; latchkey "$@"; else command npx "$@"; fi; }',
          'curl() { command curl --silent --show-error --fail-with-body "$@"; }',
          ...blocks.map(
            (b) =>
              `echo "=== README line ${b.line} (${b.section})" >&2\nset -x\n${literal(b.code)}\nset +x\necho >&2`,
          ),
        ].join('\n');
        const r = await bash(script, env);
        const last = r.stderr.lastIndexOf('=== README line');
        expect(r.code, `${r.stderr.slice(last)}\nstdout:\n${r.stdout.slice(-3000)}`).toBe(0);
        expect(r.stderr.match(/^=== README line/gm)?.length).toBe(blocks.length);
      } finally {
        await proc.stop('SIGINT');
      }
      expect(await proc.exited, proc.stderr()).toBe(0);
    });
    // What the examples had the user create in the checkout, git and the linter leave alone.
    const created = readdirSync(checkout, { withFileTypes: true })
      .filter((e) => !['package.json', 'dist', 'web', 'node_modules'].includes(e.name))
      .map((e) => (e.isDirectory() ? `${e.name}/` : e.name));
    expect(created).toContain('latchkey-data/');
    expect(created).toContain('credentials.json');
    const ignored = await bash(
      `cd ${JSON.stringify(REPO)} && git check-ignore --no-index ${created.map((n) => JSON.stringify(n)).join(' ')}`,
      {},
    );
    expect(ignored.stdout.trim().split('\n').sort()).toEqual([...created].sort());
  }, 300_000);
});
