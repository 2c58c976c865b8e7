import { execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { basicAuth, http } from '../helpers/http.js';
import { freshCheckout, PASSWORD, runInCheckout, urlOf, userEnv } from '../helpers/quick-start.js';

// What a person meets when running `latchkey start`: a short banner whose next steps work when
// pasted into a shell in the same folder, and log lines that name their role, readable on a
// terminal and JSON lines otherwise, with request ids that no two servers of the process share.

const checkout = freshCheckout();
afterAll(() => rmSync(checkout, { recursive: true, force: true }));
const HASH_COST = { LATCHKEY_SECURITY_PASSWORD_HASH_COST: '10' };
const BANNER_END = /Ctrl-C stops latchkey.*\n/;

/** The JSON log lines of `out` (the banner's lines are not JSON). */
/** A port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function logLines(out: string): Record<string, unknown>[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * Runs one line of the banner's next steps in `cwd` with bash, as a user pastes it: `npx
 * latchkey` is this checkout's latchkey (what npx runs in a checkout), and `curl -u admin`
 * gets the password the user would type at its prompt.
 */
function runStep(cwd: string, line: string, password: string, env: Record<string, string>) {
  const command = line.replace(/\s+#.*$/, '').replace(/ -u admin /, ` -u 'admin:${password}' `);
  const script = `npx() { if [ "$1" = latchkey ]; then shift; node dist/cli/main.js "$@"; else command npx "$@"; fi; }\n${command}`;
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd, env: userEnv(env) });
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

describe('latchkey start: the banner', () => {
  it('shows the password once, the URLs, and next steps that work as printed', async () => {
    const proc = runInCheckout(
      checkout,
      ['start', '--port', '0', '--ims-port', '0', '--log-level', 'debug'],
      HASH_COST,
    );
    let password: string | undefined;
    try {
      await proc.waitFor(BANNER_END, 90_000);
      const out = proc.stdout();
      password = PASSWORD.exec(out)?.[1];
      expect(password, out).toBeDefined();
      const author = urlOf(out, 'author');
      const ims = urlOf(out, 'ims');
      expect(out).toContain(`(System Console: ${author}/system/console)`);
      expect(out).toContain(`(Developer Console: ${ims}/ims/console)`);
      expect(out).toContain('npx latchkey admin reset-password --data latchkey-data');

      const banner = out.slice(out.indexOf('next steps:'));
      const steps = banner
        .slice(banner.indexOf('\n') + 1, banner.indexOf('\n\n'))
        .split('\n')
        .map((l) => l.trim());
      expect(steps.length).toBeGreaterThanOrEqual(3);
      // Each is meant for this data folder, with the CLI a user has after npm install.
      for (const step of steps) expect(step).not.toMatch(/(?<!npx )\blatchkey /);
      expect(steps.filter((s) => s.includes('npx latchkey ')).length).toBeGreaterThanOrEqual(2);
      expect(steps.some((s) => s.includes('--data latchkey-data'))).toBe(true);

      let token: string | undefined;
      for (const step of steps) {
        // Trust hints the banner printed (NODE_EXTRA_CA_CERTS=…) apply as a user exports them.
        const env: Record<string, string> = {};
        const ca = /NODE_EXTRA_CA_CERTS=(\S+)/.exec(out)?.[1];
        if (ca) env['NODE_EXTRA_CA_CERTS'] = ca;
        const r = await runStep(checkout, step, password!, env);
        expect(r.code, `${step}\n${r.stdout}\n${r.stderr}`).toBe(0);
        if (step.startsWith('curl')) expect(JSON.parse(r.stdout)).toBeTypeOf('object');
        if (step.includes('credentials create')) {
          expect(statSync(`${checkout}/credentials.json`).mode & 0o777).toBe(0o600);
        }
        if (step.includes('credentials exchange'))
          token = (JSON.parse(r.stdout) as { access_token: string }).access_token;
      }
      // "an access token for the author": the author accepts it.
      expect(token).toBeDefined();
      const me = await http(`${author}/libs/granite/security/currentuser.json`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(me.status).toBe(200);
      expect((me.json() as { authorizableId: string }).authorizableId).toMatch(/@techacct/);
    } finally {
      await proc.stop('SIGINT');
    }
    expect(await proc.exited, proc.stderr()).toBe(0);

    // Log lines: JSON (stdout is no terminal), each naming its role; request ids unique in the
    // process; at debug, the revocation polls and their requests are there.
    const lines = logLines(proc.stdout());
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines)
      expect(['author', 'ims'], JSON.stringify(line)).toContain(line['role']);
    const ids = (role: string) =>
      new Set(lines.filter((l) => l['role'] === role && l['reqId']).map((l) => l['reqId']));
    const imsIds = ids('ims');
    const authorIds = ids('author');
    expect(imsIds.size).toBeGreaterThan(0);
    expect(authorIds.size).toBeGreaterThan(0);
    expect([...authorIds].filter((id) => imsIds.has(id))).toEqual([]);
    const polls = lines.filter(
      (l) => (l['req'] as { url?: string } | undefined)?.url === '/ims/revocations',
    );
    expect(polls.length).toBeGreaterThan(0);
    for (const poll of polls) expect(poll['level']).toBe(20);

    // The next start: no password (the banner says where it is), and at the default level no
    // routine request (revocation polls, health) is logged.
    // On another IMS port (4510 busy, say): the port chosen is where new credentials point.
    const imsPort = await freePort();
    const again = runInCheckout(
      checkout,
      ['start', '--port', '0', '--ims-port', String(imsPort)],
      HASH_COST,
    );
    try {
      await again.waitFor(BANNER_END, 90_000);
      const second = again.stdout();
      expect(second).not.toMatch(PASSWORD);
      expect(second).toContain('user admin: the password printed by the first start');
      // credentials.json exists now (the first start's steps made it) and names the first
      // start's IMS port: create never overwrites a file, so the steps create and exchange a new
      // file, which names the port this start chose, and every step works again when pasted.
      expect(second).toContain(`the IMS's public URL is now https://127.0.0.1:${imsPort}`);
      const next = second.slice(second.indexOf('next steps:'));
      const againSteps = next
        .slice(next.indexOf('\n') + 1, next.indexOf('\n\n'))
        .split('\n')
        .map((l) => l.trim());
      expect(againSteps.join('\n')).toContain('--out credentials-2.json');
      expect(againSteps.join('\n')).toContain('credentials exchange credentials-2.json');
      const ca = /NODE_EXTRA_CA_CERTS=(\S+)/.exec(second)?.[1];
      for (const step of againSteps) {
        const r = await runStep(checkout, step, password!, ca ? { NODE_EXTRA_CA_CERTS: ca } : {});
        expect(r.code, `${step}\n${r.stdout}\n${r.stderr}`).toBe(0);
      }
      const health = await http(`${urlOf(second, 'author')}/system/health`, {
        headers: { authorization: basicAuth('admin', password!) },
      });
      expect(health.status).toBe(200);
      const content = await http(`${urlOf(second, 'author')}/content.json`);
      expect(content.status).toBe(401);
      await again.waitFor(/"url":"\/content\.json"[^\n]*"msg":"request completed"/);
    } finally {
      await again.stop('SIGINT');
    }
    const quiet = logLines(again.stdout());
    expect(quiet.filter((l) => (l['level'] as number) < 30)).toEqual([]);
    const urls = quiet.map((l) => (l['req'] as { url?: string } | undefined)?.url);
    expect(urls).not.toContain('/ims/revocations');
    expect(urls).not.toContain('/system/health');
    expect(urls).toContain('/content.json');
  }, 180_000);
});

const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasScript && process.env['CI'] !== 'true')
  console.warn('skipped: the terminal test needs script(1) (util-linux)');

describe.runIf(hasScript || process.env['CI'] === 'true')('latchkey start on a terminal', () => {
  it('writes readable log lines, not JSON', async () => {
    const data = `${checkout}/terminal-data`;
    // script(1) gives the process a terminal; Ctrl-C typed into it stops latchkey. script runs
    // the command with $SHELL -c: `exec` makes latchkey the terminal's only process whatever the
    // shell (dash, /bin/sh when SHELL is unset, would otherwise take the Ctrl-C itself: exit 130).
    const child = spawn(
      'script',
      [
        '-qec',
        `exec node dist/cli/main.js start --port 0 --ims-port 0 --data ${data} --log-level debug`,
        '/dev/null',
      ],
      { cwd: checkout, env: userEnv(HASH_COST) },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const plain = () => stripVTControlCharacters(out).replace(/\r/g, '');
    try {
      for (let i = 0; i < 900 && !BANNER_END.test(plain()); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(plain()).toMatch(BANNER_END);
      const author = urlOf(plain(), 'author');
      expect((await http(`${author}/content.json`)).status).toBe(401);
      for (let i = 0; i < 100 && !/GET \/content\.json 401/.test(plain()); i++)
        await new Promise((r) => setTimeout(r, 100));
    } finally {
      child.stdin.write('\x03');
      child.stdin.end();
    }
    expect(await exited).toBe(0);
    const lines = plain()
      .split('\n')
      .filter((l) => l.startsWith('['));
    expect(plain()).not.toMatch(/^\{/m);
    expect(lines.join('\n')).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: ims Server listening at https?:\/\/127\.0\.0\.1:\d+$/m,
    );
    expect(lines.join('\n')).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] DEBUG: ims req-\d+ GET \/ims\/revocations 200 \(\d+\.\d ms\)$/m,
    );
    expect(lines.join('\n')).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: author req-\d+ GET \/content\.json 401 \(\d+\.\d ms\)$/m,
    );
    expect(existsSync(data)).toBe(true);
  }, 120_000);
});
