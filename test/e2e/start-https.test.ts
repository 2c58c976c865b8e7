import { execFileSync, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/process.js';
import { runInCheckout, type StartedProcess } from '../helpers/quick-start.js';
import { throwawayCa } from '../helpers/tls.js';

// HTTPS out of the box for the IMS of `latchkey start` (issue 8, point 5), as a user meets it:
// real `latchkey start` processes with no LATCHKEY_* variable and no NODE_EXTRA_CA_CERTS, the
// user's program run with NODE_EXTRA_CA_CERTS as the only setting, real HTTPS throughout.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const root = mkdtempSync(join(tmpdir(), 'lk-start-https-'));
const started: StartedProcess[] = [];
afterAll(async () => {
  for (const p of started) await p.stop();
  rmSync(root, { recursive: true, force: true });
});

/** A TCP port free right now. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Each data folder keeps its IMS port, as a user's does (the public URL records it). */
const imsPorts = new Map<string, number>();

/** `latchkey start` in `cwd` (the author on a free port); resolves once both servers listen. */
async function start(cwd: string, args: string[] = [], env: Record<string, string> = {}) {
  let imsPort = imsPorts.get(cwd);
  if (imsPort === undefined) {
    imsPort = await freePort();
    imsPorts.set(cwd, imsPort);
  }
  const p = runInCheckout(
    cwd,
    ['start', '--port', '0', '--ims-port', String(imsPort), ...args],
    env,
  );
  started.push(p);
  await p.waitFor(/latchkey author listening on \S+.*\n/, 60_000);
  const out = p.stdout();
  return {
    process: p,
    out,
    ims: /latchkey ims listening on (\S+)/.exec(out)![1]!,
    author: /latchkey author listening on (\S+)/.exec(out)![1]!,
  };
}

/**
 * A folder where the user's program runs, as after `npm install latchkey` (and the clients the
 * README names), holding `credentials.json` from `latchkey credentials create`.
 */
async function workspace(data: string, name: string): Promise<string> {
  const dir = join(root, name);
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  for (const dep of ['openid-client', 'jose', '@adobe', 'node-fetch'])
    symlinkSync(join(ROOT, 'node_modules', dep), join(dir, 'node_modules', dep));
  symlinkSync(ROOT, join(dir, 'node_modules', 'latchkey'));
  const created = await runCli([
    'credentials',
    'create',
    '--environment',
    'p1-e1',
    '--out',
    join(dir, 'credentials.json'),
    '--data',
    data,
  ]);
  expect(created.code, created.stderr).toBe(0);
  return dir;
}

/** Runs an ES module in `cwd` with `env` as its whole environment (plus PATH). */
function node(source: string, cwd: string, env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module'], {
      cwd,
      env: { PATH: process.env['PATH'] ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(source);
  });
}

/** The README's quick-start program: the seed's snippet, with latchkey's client library. */
const seedSnippet = (() => {
  const quick = README.slice(README.indexOf('## Quick start'), README.indexOf('\n## Commands'));
  const m = /```js\n([\s\S]*?exchange\(config\)[\s\S]*?)```/.exec(quick);
  if (!m) throw new Error("the README's quick start has no exchange(config) snippet");
  return m[1]!;
})();

/** The certificate the server at `url` presents, checked against `ca` only. */
function presented(
  url: string,
  ca: string,
): Promise<{ authorized: boolean; cert: X509Certificate }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port: Number(u.port), ca: readFileSync(ca) }, () => {
      resolve({
        authorized: socket.authorized,
        cert: new X509Certificate(socket.getPeerX509Certificate()!.raw),
      });
      socket.end();
    });
    socket.on('error', reject);
  });
}

async function bearerStatus(author: string, token: string): Promise<number> {
  return (
    await fetch(`${author}/content/dam.json`, { headers: { authorization: `Bearer ${token}` } })
  ).status;
}

describe('latchkey start serves the IMS over HTTPS with a local CA', () => {
  const cwd = join(root, 'user');
  const data = join(cwd, 'latchkey-data');
  const ca = join(data, 'tls', 'ca.crt');

  it("creates the CA on the first start, prints how to trust it, and the seed's snippet works with only NODE_EXTRA_CA_CERTS", async () => {
    mkdirSync(cwd, { recursive: true });
    for (const name of ['dist', 'web', 'node_modules', 'package.json'])
      symlinkSync(join(ROOT, name), join(cwd, name));
    const first = await start(cwd);
    try {
      expect(first.ims).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(first.author).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/); // the author stays plain HTTP
      expect(first.out).toContain(`NODE_EXTRA_CA_CERTS=${ca}`);
      for (const f of ['ca.key', 'server.key', 'ca.crt', 'server.crt'])
        expect(statSync(join(data, 'tls', f)).mode & 0o777, f).toBe(0o600);
      const { authorized, cert } = await presented(first.ims, ca);
      expect(authorized).toBe(true);
      expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(cert.checkHost('localhost')).toBe('localhost');

      // The deployment's public URL, and so every credential's imsEndpoint, is the HTTPS one.
      const url = await runCli(['ims', 'public-url', '--data', data]);
      expect(url.stdout.trim()).toBe(first.ims);
      const dir = await workspace(data, 'app');
      const credentials = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8'));
      expect(`https://${credentials.integration.imsEndpoint}`).toBe(first.ims);

      // The user's program, as the seed shows it, with nothing but NODE_EXTRA_CA_CERTS.
      const run = await node(seedSnippet, dir, { NODE_EXTRA_CA_CERTS: ca });
      expect(run.code, run.stderr).toBe(0);
      const token = JSON.parse(run.stdout) as { access_token: string; expires_in: number };
      expect(token.expires_in).toBe(86_399_999);
      // The author, wired to the IMS with no setting from the user, accepts it.
      expect(await bearerStatus(first.author, token.access_token)).toBe(200);
      const health = (await (await fetch(`${first.author}/system/health`)).json()) as {
        checks: { name: string; status: string; message: string }[];
      };
      expect(health.checks.find((c) => c.name === 'ims')).toMatchObject({ status: 'green' });

      // Without the CA, the certificate is really checked: the program fails, and says why.
      const untrusted = await node(seedSnippet, dir, {});
      expect(untrusted.stdout).toContain('Failed to exchange for access token');
      expect(untrusted.stdout).toContain('its certificate is not trusted');
      expect(untrusted.stdout).not.toContain('access_token');
    } finally {
      expect(await first.process.stop()).toBe(0);
    }
  }, 120_000);

  it("runs the README's client snippets (openid-client, jose, @adobe/aio-lib-ims, @adobe/jwt-auth) unmodified against it", async () => {
    const s = await start(cwd);
    try {
      expect(s.out).not.toContain('created a local CA');
      const section = README.slice(
        README.indexOf('\n## Clients\n'),
        README.indexOf('\n## ', README.indexOf('\n## Clients\n') + 1),
      );
      const snippets = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
      expect(snippets.length).toBeGreaterThan(3);
      for (const [n, source] of snippets.entries()) {
        const dir = await workspace(data, `client-${n}`);
        const run = await node(source, dir, { NODE_EXTRA_CA_CERTS: ca });
        expect(run.code, `snippet ${n + 1}: ${run.stderr}`).toBe(0);
        const tokens = [...new Set(run.stdout.match(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g) ?? [])];
        expect(tokens.length, `snippet ${n + 1}: ${run.stdout}`).toBeGreaterThan(0);
        if (/tokenRevocation|invalidateToken/.test(source)) {
          // The snippet revokes the token it printed: the author refuses it once it has pulled
          // the revocation list (the poll bound), and never later serves it.
          let statuses: number[] = [];
          for (let i = 0; i < 60; i++) {
            statuses = await Promise.all(tokens.map((t) => bearerStatus(s.author, t)));
            if (statuses.includes(401)) break;
            await new Promise((r) => setTimeout(r, 500));
          }
          expect(statuses, `snippet ${n + 1}`).toContain(401);
        } else {
          const statuses = await Promise.all(tokens.map((t) => bearerStatus(s.author, t)));
          expect(statuses, `snippet ${n + 1}`).toContain(200);
        }
      }
    } finally {
      expect(await s.process.stop()).toBe(0);
    }
  }, 180_000);

  it('renews a certificate near its expiry on start, with the same CA: clients keep working', async () => {
    // Replace the server certificate by one of the same CA that expires in 5 days.
    const tls = join(data, 'tls');
    const caBefore = readFileSync(ca, 'utf8');
    execFileSync(
      'openssl',
      [
        'req',
        '-new',
        '-key',
        join(tls, 'server.key'),
        '-subj',
        '/CN=localhost',
        '-out',
        join(root, 'short.csr'),
      ],
      { stdio: 'pipe' },
    );
    writeFileSync(
      join(root, 'short.ext'),
      'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
    );
    execFileSync(
      'openssl',
      [
        'x509',
        '-req',
        '-in',
        join(root, 'short.csr'),
        '-CA',
        ca,
        '-CAkey',
        join(tls, 'ca.key'),
        '-set_serial',
        '7',
        '-days',
        '5',
        '-extfile',
        join(root, 'short.ext'),
        '-out',
        join(tls, 'server.crt'),
      ],
      { stdio: 'pipe' },
    );
    const short = new X509Certificate(readFileSync(join(tls, 'server.crt')));
    expect(new Date(short.validTo).getTime() - Date.now()).toBeLessThan(6 * 86_400_000);

    const s = await start(cwd);
    try {
      expect(s.out).toContain("renewed the IMS's certificate with the same local CA");
      expect(readFileSync(ca, 'utf8')).toBe(caBefore);
      const { authorized, cert } = await presented(s.ims, ca);
      expect(authorized).toBe(true);
      expect(cert.serialNumber).not.toBe(short.serialNumber);
      expect(new Date(cert.validTo).getTime() - Date.now()).toBeGreaterThan(300 * 86_400_000);
      const dir = await workspace(data, 'after-renewal');
      const run = await node(seedSnippet, dir, { NODE_EXTRA_CA_CERTS: ca });
      expect(run.code, run.stderr).toBe(0);
      expect(await bearerStatus(s.author, JSON.parse(run.stdout).access_token)).toBe(200);
    } finally {
      expect(await s.process.stop()).toBe(0);
    }
  }, 120_000);
});

describe('latchkey start with other TLS choices', () => {
  it('refuses --ims-http with a certificate (exit 2), before anything is written', async () => {
    const cwd = join(root, 'contradiction');
    mkdirSync(cwd, { recursive: true });
    for (const name of ['dist', 'web', 'node_modules', 'package.json'])
      symlinkSync(join(ROOT, name), join(cwd, name));
    const own = throwawayCa(cwd);
    const p = runInCheckout(cwd, [
      'start',
      '--ims-http',
      '--tls-cert',
      own.cert,
      '--tls-key',
      own.key,
    ]);
    started.push(p);
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toContain('--ims-http');
    expect(p.stderr()).toContain('it takes no certificate');
    expect(existsSync(join(cwd, 'latchkey-data'))).toBe(false);
  });

  it('--tls-cert and --tls-key replace the local CA', async () => {
    const cwd = join(root, 'own-cert');
    mkdirSync(cwd, { recursive: true });
    for (const name of ['dist', 'web', 'node_modules', 'package.json'])
      symlinkSync(join(ROOT, name), join(cwd, name));
    const own = throwawayCa(cwd);
    // The user trusts their own CA, for their programs and latchkey alike.
    const s = await start(cwd, ['--tls-cert', own.cert, '--tls-key', own.key], {
      NODE_EXTRA_CA_CERTS: own.ca,
    });
    const p = s.process;
    try {
      const ims = s.ims;
      expect(ims).toMatch(/^https:/);
      expect(existsSync(join(cwd, 'latchkey-data', 'tls'))).toBe(false);
      const { authorized, cert } = await presented(ims, own.ca);
      expect(authorized).toBe(true);
      expect(cert.raw.equals(new X509Certificate(readFileSync(own.cert)).raw)).toBe(true);
      const author = s.author;
      const dir = await workspace(join(cwd, 'latchkey-data'), 'own-cert-app');
      const run = await node(seedSnippet, dir, { NODE_EXTRA_CA_CERTS: own.ca });
      expect(run.code, run.stderr).toBe(0);
      expect(await bearerStatus(author, JSON.parse(run.stdout).access_token)).toBe(200);
    } finally {
      expect(await p.stop()).toBe(0);
    }
  }, 120_000);

  it('--ims-http keeps plain HTTP (the client library still finds it); --author-https serves the author over HTTPS', async () => {
    const cwd = join(root, 'plain');
    mkdirSync(cwd, { recursive: true });
    for (const name of ['dist', 'web', 'node_modules', 'package.json'])
      symlinkSync(join(ROOT, name), join(cwd, name));
    const data = join(cwd, 'latchkey-data');
    const plain = await start(cwd, ['--ims-http']);
    try {
      expect(plain.ims).toMatch(/^http:\/\//);
      expect(plain.out).not.toContain('NODE_EXTRA_CA_CERTS');
      expect(existsSync(join(data, 'tls'))).toBe(false);
      const dir = await workspace(data, 'plain-app');
      const run = await node(seedSnippet, dir, {});
      expect(run.code, run.stderr).toBe(0);
      expect(await bearerStatus(plain.author, JSON.parse(run.stdout).access_token)).toBe(200);
    } finally {
      expect(await plain.process.stop()).toBe(0);
    }

    // The same folder, now with the defaults and the author on HTTPS: the recorded public URL
    // follows the scheme, so earlier credentials keep working.
    const secure = await start(cwd, ['--author-https']);
    try {
      expect(secure.ims).toMatch(/^https:\/\//);
      expect(secure.author).toMatch(/^https:\/\//);
      expect(secure.out).toContain(
        `the IMS's public URL is now ${secure.ims.replace(/:\d+$/, '')}`,
      );
      const ca = join(data, 'tls', 'ca.crt');
      expect((await presented(secure.author, ca)).authorized).toBe(true);
      // The banner's next steps check the author's certificate too.
      expect(secure.out).toContain(
        `curl --cacert latchkey-data/tls/ca.crt -u admin ${secure.author}/content.1.json`,
      );
      const run = await node(seedSnippet, join(root, 'plain-app'), { NODE_EXTRA_CA_CERTS: ca });
      expect(run.code, run.stderr).toBe(0);
    } finally {
      expect(await secure.process.stop()).toBe(0);
    }
  }, 180_000);
});
