import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cliInCheckout,
  freePort,
  freshCheckout,
  imsAdminStatus,
  PASSWORD,
  runInCheckout,
  type StartedProcess,
  signIn,
  urlOf,
} from '../helpers/quick-start.js';

// The admin password is never lost: the admin of each store is created only once both servers
// listen (every option checked, both ports taken, TLS files read), and a signal during the start
// waits for the password to be printed. Each test below breaks a start in one way and then
// checks what matters: the next start shows a password (or the broken one showed it), and that
// password opens the author and the IMS.

const checkout = freshCheckout();
const root = mkdtempSync(join(tmpdir(), 'lk-start-failures-'));
afterAll(() => {
  rmSync(checkout, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});

let folders = 0;
const newData = () => join(root, `data-${++folders}`);

/** `latchkey start --data DATA --port 0 --ims-port 0 ARGS` until it listens. */
async function startOk(data: string, args: string[] = []): Promise<StartedProcess> {
  const proc = runInCheckout(checkout, [
    'start',
    '--data',
    data,
    '--port',
    '0',
    '--ims-port',
    '0',
    ...args,
  ]);
  await proc.waitFor(/latchkey author listening on .*\n/, 90_000);
  return proc;
}

/**
 * Starts the folder once more and checks that exactly one password was shown for it, by the
 * runs before (`shown`) or by this start, and that it opens the author and the IMS.
 */
async function expectOneKnownPassword(data: string, shown: string | undefined): Promise<void> {
  const again = await startOk(data);
  try {
    const out = again.stdout();
    const printed = PASSWORD.exec(out)?.[1];
    if (shown === undefined) expect(printed, `no password shown at all: ${out}`).toBeDefined();
    else expect(printed, 'a second password for the same folder').toBeUndefined();
    const password = (shown ?? printed)!;
    expect(await signIn(urlOf(out, 'author'), 'admin', password)).toBe('admin');
    expect(await imsAdminStatus(urlOf(out, 'ims'), password)).toBe(200);
  } finally {
    await again.stop('SIGINT');
  }
  expect(await again.exited, again.stderr()).toBe(0);
}

/** Holds `port` on 127.0.0.1 as another program would. */
function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('failed starts leave no admin whose password nobody saw', () => {
  it('a busy port, a bad TLS file and bad flags, one after another on one folder', async () => {
    const data = newData();
    const busy = await freePort();
    const blocker = await occupy(busy);
    const garbage = join(root, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    const missingTls = join(root, 'missing-tls.json');
    writeFileSync(missingTls, JSON.stringify({ tls: { cert: 'nowhere.pem', key: 'nowhere.pem' } }));
    const garbageTls = join(root, 'garbage-tls.json');
    writeFileSync(garbageTls, JSON.stringify({ tls: { cert: garbage, key: garbage } }));
    const failures: [string[], number, RegExp][] = [
      [['--port', String(busy), '--ims-port', '0'], 1, /author's port \d+ is in use.*--port N/],
      [['--port', '0', '--ims-port', String(busy)], 1, /IMS's port \d+ is in use.*--ims-port N/],
      [['--port', '0', '--ims-port', '0', '--config', missingTls], 2, /tls\.cert.*nowhere\.pem/],
      [['--port', '0', '--ims-port', '0', '--config', garbageTls], 1, /./],
      [['--port', 'eighty'], 2, /port .*must be an integer/],
      [['--port', '0', '--ims-port', '99999'], 2, /imsPort .*must be an integer/],
      [['--port', '0', '--ims-port', '0', '--colour'], 2, /unknown option '--colour'/],
    ];
    try {
      for (const [args, code, message] of failures) {
        const r = await cliInCheckout(checkout, ['start', '--data', data, ...args]);
        expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(code);
        expect(r.stderr).toMatch(message);
        expect(r.stderr.trim().split('\n')[0]).toMatch(/^latchkey: /);
        expect(r.stdout, args.join(' ')).not.toMatch(PASSWORD);
      }
    } finally {
      blocker.close();
    }
    await expectOneKnownPassword(data, undefined);
  }, 240_000);

  // Ctrl-C at each stage of a first start: while it loads, once the IMS listens, once the author
  // listens (the admin is being created), once the banner is out, and twice in a row.
  const moments: [string, (proc: StartedProcess) => Promise<void>][] = [
    ['at once', async () => {}],
    ['while it loads', () => new Promise((r) => setTimeout(r, 300))],
    ['once the IMS listens', async (p) => void (await p.waitFor(/Server listening at/))],
    [
      'once the author listens',
      async (p) => void (await p.waitFor(/Server listening at[\s\S]*Server listening at/)),
    ],
    ['once the banner is out', async (p) => void (await p.waitFor(/latchkey author listening/))],
  ];
  for (const [when, wait] of moments) {
    for (const twice of [false, true]) {
      it(`Ctrl-C ${twice ? 'twice ' : ''}${when}`, async () => {
        const data = newData();
        const proc = runInCheckout(checkout, [
          'start',
          '--data',
          data,
          '--port',
          '0',
          '--ims-port',
          '0',
        ]);
        await wait(proc).catch(() => {});
        proc.child.kill('SIGINT');
        if (twice) proc.child.kill('SIGINT');
        const code = await proc.exited;
        const out = proc.stdout();
        expect(proc.stderr()).not.toMatch(/\n\s+at /); // no stack trace
        expect([0, 130, null]).toContain(code);
        await expectOneKnownPassword(data, PASSWORD.exec(out)?.[1]);
      }, 120_000);
    }
  }
});
