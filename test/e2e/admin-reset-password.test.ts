import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../helpers/http.js';
import {
  cliInCheckout,
  freshCheckout,
  imsAdminStatus,
  PASSWORD,
  runInCheckout,
  type StartedProcess,
  signIn,
  urlOf,
  userEnv,
} from '../helpers/quick-start.js';

// `latchkey admin reset-password`: a new password for admin on a stopped data folder (prompt,
// stdin or --generate), on the author and the IMS of a `latchkey start` folder, ending the
// admin's sessions; refused while a server holds the folder, and on a folder without a store.

const checkout = freshCheckout();
const root = mkdtempSync(join(tmpdir(), 'lk-reset-'));
const data = join(root, 'latchkey-data');
const COST = { LATCHKEY_SECURITY_PASSWORD_HASH_COST: '10' };
afterAll(() => {
  rmSync(checkout, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});

async function start(): Promise<{ proc: StartedProcess; author: string; ims: string }> {
  const proc = runInCheckout(
    checkout,
    ['start', '--data', data, '--port', '0', '--ims-port', '0'],
    COST,
  );
  await proc.waitFor(/latchkey author listening on .*\n/, 90_000);
  return { proc, author: urlOf(proc.stdout(), 'author'), ims: urlOf(proc.stdout(), 'ims') };
}

async function stop(proc: StartedProcess) {
  await proc.stop('SIGINT');
  expect(await proc.exited, proc.stderr()).toBe(0);
}

/** A login-token cookie of the author's admin. */
async function authorSession(author: string, password: string): Promise<string> {
  const res = await http(`${author}/j_security_check`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ j_username: 'admin', j_password: password }).toString(),
  });
  expect(res.status).toBe(200);
  return String(res.headers['set-cookie']).split(';')[0]!;
}

/** A Developer Console session cookie of the IMS's admin. */
async function consoleSession(ims: string, password: string): Promise<string> {
  const res = await http(`${ims}/ims/console/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ j_username: 'admin', j_password: password }).toString(),
  });
  expect(res.status).toBe(303);
  return String(res.headers['set-cookie']).split(';')[0]!;
}

async function whoAmI(author: string, cookie: string): Promise<string> {
  const res = await http(`${author}/libs/granite/security/currentuser.json`, {
    headers: { cookie },
  });
  return (res.json() as { authorizableId: string }).authorizableId;
}
const consoleStatus = async (ims: string, cookie: string) =>
  (await http(`${ims}/ims/console`, { headers: { cookie } })).status;

/** Runs the command under a pseudo-terminal (`script`), typing `lines` at its prompts. */
function onTerminal(
  args: string[],
  lines: string[],
): Promise<{ code: number | null; output: string }> {
  // exec: latchkey is the terminal's process whatever $SHELL is (script runs $SHELL -c).
  const command = ['exec', 'node', 'dist/cli/main.js', ...args].join(' ');
  const child: ChildProcess = spawn('script', ['-qec', command, '/dev/null'], {
    cwd: checkout,
    env: userEnv(COST),
  });
  let output = '';
  let answered = 0;
  child.stdout?.on('data', (d) => {
    output += d;
    // One answer per prompt, typed once the prompt is shown (as a person does).
    const prompts = output.match(/new admin password: |the same again: /g)?.length ?? 0;
    while (answered < prompts && answered < lines.length)
      child.stdin?.write(`${lines[answered++]}\r`);
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

let password: string;
beforeAll(async () => {
  const { proc } = await start();
  password = PASSWORD.exec(proc.stdout())![1]!;
  await stop(proc);
}, 120_000);

describe('latchkey admin reset-password', () => {
  it('is refused while latchkey runs on the folder, and changes nothing', async () => {
    const { proc, author, ims } = await start();
    try {
      const r = await cliInCheckout(checkout, ['admin', 'reset-password', '--data', data], {
        input: 'other-password\n',
        env: COST,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^latchkey: a latchkey server \\(pid ${proc.child.pid}\\) serves the author of .*: stop it first`,
        ),
      );
      expect(await signIn(author, 'admin', password)).toBe('admin');
      expect(await imsAdminStatus(ims, password)).toBe(200);
    } finally {
      await stop(proc);
    }
  }, 120_000);

  it('reads the new password from stdin, sets it on the author and the IMS, ends the sessions', async () => {
    let { proc, author, ims } = await start();
    const session = await authorSession(author, password);
    const consoleCookie = await consoleSession(ims, password);
    expect(await whoAmI(author, session)).toBe('admin');
    expect(await consoleStatus(ims, consoleCookie)).toBe(200);
    await stop(proc);

    const r = await cliInCheckout(checkout, ['admin', 'reset-password', '--data', data], {
      input: 'piped-new-password\n',
      env: COST,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('admin password of the author and IMS set');
    expect(r.stdout).not.toContain('piped-new-password');

    ({ proc, author, ims } = await start());
    try {
      expect(proc.stdout()).not.toMatch(PASSWORD);
      expect(await signIn(author, 'admin', 'piped-new-password')).toBe('admin');
      expect(await signIn(author, 'admin', password)).toBe('refused 403');
      expect(await imsAdminStatus(ims, 'piped-new-password')).toBe(200);
      expect(await imsAdminStatus(ims, password)).toBe(401);
      // The sessions started with the old password are over.
      expect(await whoAmI(author, session)).toBe('anonymous');
      expect(await consoleStatus(ims, consoleCookie)).toBe(303);
    } finally {
      await stop(proc);
    }
    password = 'piped-new-password';
  }, 180_000);

  it('--generate prints a new password; --role changes one role only', async () => {
    const r = await cliInCheckout(
      checkout,
      ['admin', 'reset-password', '--data', data, '--role', 'ims', '--generate'],
      { env: COST },
    );
    expect(r.code, r.stderr).toBe(0);
    const generated = PASSWORD.exec(r.stdout)?.[1];
    expect(r.stdout).toMatch(/admin password of the IMS \(/);
    expect(generated).toMatch(/^[\w-]{24}$/);
    const { proc, author, ims } = await start();
    try {
      expect(await imsAdminStatus(ims, generated!)).toBe(200);
      expect(await signIn(author, 'admin', password)).toBe('admin');
    } finally {
      await stop(proc);
    }
  }, 120_000);

  it('asks at a terminal without echoing, twice, and refuses two different entries', async () => {
    const differ = await onTerminal(
      ['admin', 'reset-password', '--data', data],
      ['typed-one', 'typed-two'],
    );
    expect(differ.code).toBe(1);
    expect(differ.output).toContain('latchkey: the passwords differ');
    expect(differ.output).not.toContain('typed-');

    const typed = await onTerminal(
      ['admin', 'reset-password', '--data', data],
      ['typed-password', 'typed-password'],
    );
    expect(typed.code, typed.output).toBe(0);
    expect(typed.output).toContain('new admin password: ');
    expect(typed.output).toContain('admin password of the author and IMS set');
    expect(typed.output).not.toContain('typed-password');
    const { proc, author, ims } = await start();
    try {
      expect(await signIn(author, 'admin', 'typed-password')).toBe('admin');
      expect(await imsAdminStatus(ims, 'typed-password')).toBe(200);
    } finally {
      await stop(proc);
    }
  }, 120_000);

  it('refuses a folder without a store, a role the folder does not hold, an unknown role and an empty password; creates nothing', async () => {
    const empty = join(root, 'empty');
    const none = await cliInCheckout(
      checkout,
      ['admin', 'reset-password', '--data', empty, '--generate'],
      { env: COST },
    );
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(`latchkey: no_store: ${empty} does not exist: check --data\n`);
    const publish = await cliInCheckout(
      checkout,
      ['admin', 'reset-password', '--data', data, '--role', 'publish', '--generate'],
      { env: COST },
    );
    expect(publish.code).toBe(2);
    expect(publish.stderr).toMatch(/^latchkey: wrong_role: .* not a publish store/);
    expect(readdirSync(data)).not.toContain('publish.sqlite');
    const role = await cliInCheckout(
      checkout,
      ['admin', 'reset-password', '--data', data, '--role', 'editor'],
      { env: COST },
    );
    expect(role.code).toBe(2);
    expect(role.stderr).toMatch(/^latchkey: invalid configuration: role .*editor/);
    const blank = await cliInCheckout(checkout, ['admin', 'reset-password', '--data', data], {
      input: '\n',
      env: COST,
    });
    expect(blank.code).toBe(1);
    expect(blank.stderr).toBe('latchkey: no password on stdin\n');
  }, 60_000);
});
