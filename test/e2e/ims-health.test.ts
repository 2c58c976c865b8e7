import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../helpers/http.js';
import { basic } from '../helpers/instance.js';
import { runCli, type Server, startServer } from '../helpers/process.js';
import { throwawayCa } from '../helpers/tls.js';

// Health tells the truth (issue 8, point 9), with real processes over real HTTPS: an instance
// started with --ims says whether the IMS's keys and revocation list answer and, when not, why;
// a bearer token it cannot check for lack of the IMS gets 503 ims_unavailable (not "a key the
// IMS does not publish"); every refusal is logged with its reason and never with the token; the
// IMS-configuration check obtains a real token.

const root = mkdtempSync(join(tmpdir(), 'lk-ims-health-'));
const servers: Server[] = [];
const sockets = new Set<Socket>();
let silent: NetServer | undefined;
afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const s of sockets) s.destroy();
  silent?.close();
  rmSync(root, { recursive: true, force: true });
});

const ADMIN = basic('admin', 'health-admin');
// No extra CA from the machine: trust is what each test gives.
const env = { LATCHKEY_ADMIN_PASSWORD: 'health-admin', NODE_EXTRA_CA_CERTS: '' };

let ca: ReturnType<typeof throwawayCa>;
let ims: Server;
let credentials: {
  integration: {
    imsEndpoint: string;
    org: string;
    id: string;
    privateKey: string;
    metascopes: string;
    technicalAccount: { clientId: string; clientSecret: string };
  };
};
let token: string;

async function serve(name: string, args: string[], extra: Record<string, string> = {}) {
  const s = await startServer(
    ['serve', 'author', '--port', '0', '--data', join(root, name), ...args],
    { ...env, LATCHKEY_LOG_LEVEL: 'info', ...extra },
    'author',
  );
  servers.push(s);
  return s;
}

type Check = { name: string; status: string; message: string; fix?: string };
async function health(s: Server): Promise<{ code: number; status: string; checks: Check[] }> {
  const res = await fetch(`${s.url}/system/health`);
  const body = (await res.json()) as { status: string; checks: Check[] };
  return { code: res.status, ...body };
}
const check = async (s: Server, name: string) =>
  (await health(s)).checks.find((c) => c.name === name);

async function bearer(s: Server, t: string) {
  const res = await fetch(`${s.url}/content/dam.json`, {
    headers: { authorization: `Bearer ${t}` },
  });
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    body: (await res.json()) as { error: string; error_description: string },
  };
}

/** The server's log lines (JSON) that say a request was refused. */
function refusals(s: Server): { code: string; reason: string; status: number }[] {
  return s
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; code: string; reason: string; status: number })
    .filter((l) => l.msg === 'request refused');
}

/** Waits until `fn` holds (log lines are written as the response goes out). */
async function eventually(fn: () => boolean, ms = 5000) {
  const until = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  ca = throwawayCa(root);
  ims = await startServer(
    [
      'serve',
      'ims',
      '--port',
      '0',
      '--data',
      join(root, 'ims'),
      '--tls-cert',
      ca.cert,
      '--tls-key',
      ca.key,
    ],
    env,
    'ims',
  );
  servers.push(ims);
  const created = await runCli([
    'credentials',
    'create',
    '--environment',
    'p1-e1',
    '--data',
    join(root, 'ims'),
  ]);
  expect(created.code, created.stderr).toBe(0);
  credentials = JSON.parse(created.stdout);
  const file = join(root, 'credentials.json');
  writeFileSync(file, created.stdout);
  const exchanged = await runCli(['credentials', 'exchange', file], { NODE_EXTRA_CA_CERTS: ca.ca });
  expect(exchanged.code, exchanged.stderr).toBe(0);
  token = JSON.parse(exchanged.stdout).access_token;
}, 60_000);

describe('an instance whose IMS it cannot reach', () => {
  it('with a certificate it does not trust: health says so, bearer requests get 503 ims_unavailable, the log says why', async () => {
    const author = await serve('untrusted', ['--ims', ims.url]);
    const h = await health(author);
    expect(h.code).toBe(503);
    const c = h.checks.find((x) => x.name === 'ims')!;
    expect(c.status).toBe('red');
    expect(c.message).toContain('certificate not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE)');
    expect(c.message).toContain('No IMS key known');
    expect(c.fix).toContain('trusts its certificate (NODE_EXTRA_CA_CERTS)');

    const res = await bearer(author, token);
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('ims_unavailable');
    expect(res.body.error_description).toContain('certificate not trusted');
    expect(Number(res.retryAfter)).toBeGreaterThanOrEqual(1);
    await eventually(() => refusals(author).some((r) => r.code === 'ims_unavailable'));
    const logged = refusals(author).find((r) => r.code === 'ims_unavailable')!;
    expect(logged.status).toBe(503);
    expect(logged.reason).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(author.stdout() + author.stderr()).not.toContain(token.split('.')[2]!);
  });

  it('that refuses connections, or that never answers: health and the 503 name the cause', async () => {
    // A port nobody listens on.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const refused = await serve('refused', ['--ims', `http://127.0.0.1:${closedPort}`]);
    const c = await check(refused, 'ims');
    expect(c?.status).toBe('red');
    expect(c?.message).toContain('connection refused (ECONNREFUSED)');
    const r = await bearer(refused, token);
    expect(r.status).toBe(503);
    expect(r.body.error_description).toContain('connection refused');

    // A server that accepts connections and never answers.
    silent = createServer((s) => {
      sockets.add(s);
    });
    await new Promise<void>((r) => silent!.listen(0, '127.0.0.1', r));
    const silentPort = (silent.address() as { port: number }).port;
    const stuck = await serve('silent', ['--ims', `http://127.0.0.1:${silentPort}`]);
    const t = await check(stuck, 'ims');
    expect(t?.status).toBe('red');
    expect(t?.message).toMatch(/no answer within \d+ ms/);
  }, 60_000);

  it('whose keys answer but whose revocation list does not: yellow, and tokens are still verified', async () => {
    // In front of the IMS: its keys as it publishes them, its revocation list failing.
    const jwks = await http(`${ims.url}/ims/keys`, { ca: readFileSync(ca.ca) });
    expect(jwks.status).toBe(200);
    const front = createHttpServer((req, res) => {
      if (req.url === '/ims/keys') res.writeHead(200, { 'content-type': 'application/json' });
      else res.writeHead(500, { 'content-type': 'application/json' });
      res.end(req.url === '/ims/keys' ? jwks.text : '{"error":"server_error"}');
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    try {
      const port = (front.address() as { port: number }).port;
      const author = await serve('no-list', ['--ims', `http://127.0.0.1:${port}`]);
      const c = await check(author, 'ims');
      expect(c?.status).toBe('yellow');
      expect(c?.fix).toMatch(/^Make the IMS reachable from this instance/);
      expect(c?.message).toContain(
        `revocation list: http://127.0.0.1:${port}/ims/revocations: answered HTTP 500`,
      );
      expect(c?.message).toContain('Tokens revoked since then are still accepted here');
      expect((await bearer(author, token)).status).toBe(200);
    } finally {
      front.close();
    }
  }, 60_000);
});

describe('an instance that trusts its IMS (--ims-ca)', () => {
  let author: Server;
  beforeAll(async () => {
    // The revocation list pulled every second: the instance learns soon that the IMS went away.
    author = await serve('trusted', ['--ims', ims.url, '--ims-ca', ca.ca], {
      LATCHKEY_IMS_REVOCATION_POLL_MS: '1000',
    });
  }, 30_000);

  it('reports the IMS reachable and accepts its tokens; every refusal is logged with its reason, never the token', async () => {
    const c = await check(author, 'ims');
    expect(c).toMatchObject({ status: 'green' });
    expect(c?.message).toMatch(/1 signing key\(s\) published, revocation list reachable/);
    expect((await bearer(author, token)).status).toBe(200);

    const [h, p, s] = token.split('.');
    const forged = `${h}.${p}.${s!.slice(0, -4)}AAAA`;
    const bad = await bearer(author, forged);
    expect(bad.status).toBe(401);
    expect(bad.body.error).toBe('invalid_token');
    // A key the IMS, reached now, does not publish: 401, as the IMS answered.
    const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'not-a-key' })).toString(
      'base64url',
    );
    const unknown = await bearer(author, `${header}.${p}.${s}`);
    expect(unknown.status).toBe(401);
    expect(unknown.body.error_description).toContain('a key the IMS does not publish');
    await eventually(() => refusals(author).filter((r) => r.code === 'invalid_token').length >= 2);
    const reasons = refusals(author).map((r) => r.reason);
    expect(reasons).toContain('access token signature is invalid');
    expect(reasons.some((r) => r.includes('a key the IMS does not publish'))).toBe(true);
    const log = author.stdout() + author.stderr();
    for (const t of [token, forged]) expect(log).not.toContain(t.split('.')[2]!);
    expect(log).not.toContain(p!);
  });

  it('the IMS-configuration check obtains a real token, and says why not when it cannot', async () => {
    const i = credentials.integration;
    const save = (name: string, clientSecret: string) =>
      fetch(`${author.url}/system/console/configs/ims/${name}`, {
        method: 'POST',
        headers: { authorization: ADMIN },
        body: new URLSearchParams({
          imsEndpoint: i.imsEndpoint,
          org: i.org,
          technicalAccountId: i.id,
          clientId: i.technicalAccount.clientId,
          clientSecret,
          privateKey: i.privateKey,
          metascopes: i.metascopes,
        }),
      });
    expect((await save('default', i.technicalAccount.clientSecret)).status).toBe(201);
    const ok = await check(author, 'ims-configurations');
    expect(ok?.status).toBe('green');
    expect(ok?.message).toBe(`ims/default: token obtained from ${i.imsEndpoint} (valid 24 h)`);

    // The seeds' failure: a secret the IMS does not accept.
    expect((await save('stale', 'p8e-not-the-secret')).status).toBe(201);
    const h = await health(author);
    expect(h.code).toBe(503);
    const bad = h.checks.find((c) => c.name === 'ims-configurations')!;
    expect(bad.status).toBe('red');
    expect(bad.message).toContain(
      `ims/stale: no token: the IMS at ${i.imsEndpoint} refused: invalid_client (invalid client_secret parameter)`,
    );
    expect(bad.message).not.toContain('ims/default');
    expect(bad.message).not.toContain('p8e-not-the-secret');
  });

  it('when the IMS goes away: keys it knows keep verifying (health yellow), an unknown key gets 503', async () => {
    await ims.stop();
    const h = await health(author);
    const c = h.checks.find((x) => x.name === 'ims')!;
    expect(c.status).toBe('yellow');
    expect(c.message).toContain('connection refused (ECONNREFUSED)');
    expect(c.message).toContain('1 IMS key(s) known from earlier');
    // Verified offline with the cached key: no IMS needed.
    expect((await bearer(author, token)).status).toBe(200);
    const [, p, s] = token.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'rotated-key' })).toString(
      'base64url',
    );
    // The keys were read less than 30 s ago (the test above), so the instance does not ask again;
    // once a pull of the revocation list failed since, it knows the IMS cannot be reached.
    const res = await waitFor503(author, `${header}.${p}.${s}`);
    expect(res.body.error).toBe('ims_unavailable');
    expect(res.body.error_description).toContain('connection refused');
  }, 60_000);
});

/** Until the instance's next pull of the revocation list failed: 401, then 503. */
async function waitFor503(s: Server, t: string) {
  const until = Date.now() + 20_000;
  for (;;) {
    const res = await bearer(s, t);
    if (res.status === 503 || Date.now() > until) {
      expect(res.status).toBe(503);
      return res;
    }
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
  }
}
