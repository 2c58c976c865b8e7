import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cliInCheckout,
  freePort,
  freshCheckout,
  runInCheckout,
  urlOf,
} from '../helpers/quick-start.js';

// `latchkey start` options mean one thing each: port (--port, LATCHKEY_PORT, the file's port)
// is the author's, imsPort (--ims-port, LATCHKEY_IMS_PORT, the file's imsPort) the IMS's.
// Regression: without --ims-port, the IMS took LATCHKEY_PORT (or the file's port) too, and the
// start failed with EADDRINUSE on the author's port, naming no flag that fixes it.

const checkout = freshCheckout();
const root = mkdtempSync(join(tmpdir(), 'lk-start-options-'));
afterAll(() => {
  rmSync(checkout, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});
let folders = 0;
const newData = () => join(root, `data-${++folders}`);

/** Starts with `args` and `env`; the author's and the IMS's ports it reports. */
async function ports(args: string[], env: Record<string, string> = {}) {
  const proc = runInCheckout(checkout, ['start', '--data', newData(), ...args], {
    LATCHKEY_SECURITY_PASSWORD_HASH_COST: '10',
    ...env,
  });
  try {
    await proc.waitFor(/latchkey author listening on .*\n/, 90_000);
    const out = proc.stdout();
    const port = (role: string) => Number(new URL(urlOf(out, role)).port);
    return { author: port('author'), ims: port('ims') };
  } finally {
    await proc.stop('SIGINT');
  }
}

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('latchkey start: port is the author’s, imsPort the IMS’s', () => {
  it('takes each from its flag, its environment variable or the configuration file', async () => {
    const [a, b] = [await freePort(), await freePort()];
    expect(await ports(['--port', String(a), '--ims-port', String(b)])).toEqual({
      author: a,
      ims: b,
    });
    expect(await ports([], { LATCHKEY_PORT: String(a), LATCHKEY_IMS_PORT: String(b) })).toEqual({
      author: a,
      ims: b,
    });
    const file = join(root, 'ports.json');
    writeFileSync(file, JSON.stringify({ port: a, imsPort: b }));
    expect(await ports(['--config', file])).toEqual({ author: a, ims: b });
    // LATCHKEY_PORT is the author's only: the IMS keeps the file's imsPort.
    const imsOnly = join(root, 'ims-port.json');
    writeFileSync(imsOnly, JSON.stringify({ imsPort: b }));
    expect(await ports(['--config', imsOnly], { LATCHKEY_PORT: String(a) })).toEqual({
      author: a,
      ims: b,
    });
    // Flags beat the environment, which beats the file.
    const [c, d] = [await freePort(), await freePort()];
    expect(
      await ports(['--config', file, '--ims-port', String(d)], { LATCHKEY_PORT: String(c) }),
    ).toEqual({ author: c, ims: d });
  }, 240_000);

  it('a port in use: the message names the port, whose it is and the flag that fixes it', async () => {
    const busy = await freePort();
    const blocker = await occupy(busy);
    try {
      const author = await cliInCheckout(checkout, [
        'start',
        '--data',
        newData(),
        '--port',
        String(busy),
        '--ims-port',
        '0',
      ]);
      expect(author.code).toBe(1);
      expect(author.stderr).toBe(
        `latchkey: the author's port ${busy} is in use (is latchkey already running?): choose another with --port N\n`,
      );
      const ims = await cliInCheckout(checkout, ['start', '--data', newData(), '--port', '0'], {
        env: { LATCHKEY_IMS_PORT: String(busy) },
      });
      expect(ims.code).toBe(1);
      expect(ims.stderr).toBe(
        `latchkey: the IMS's port ${busy} is in use (is latchkey already running?): choose another with --ims-port N\n`,
      );
      // Run by `npm start` (npm names the script it runs): the advice is npm's spelling.
      const npm = await cliInCheckout(
        checkout,
        ['start', '--data', newData(), '--port', String(busy), '--ims-port', '0'],
        { env: { npm_lifecycle_event: 'start' } },
      );
      expect(npm.stderr).toContain('choose another with npm start -- --port N');
    } finally {
      blocker.close();
    }
  }, 120_000);
});
