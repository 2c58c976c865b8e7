// latchkey benchmarks: `npm run bench` (builds first). Each server runs in its own process.
// 1. Requests per second of GET /content/dam.json on a publish instance with encapsulated tokens,
//    stateful tokens, HTTP Basic and no authentication.
// 2. Token exchanges per second at the IMS (JWT bearer exchange and client credentials), beside
//    oidc-provider's client-credentials grant measured in the same run.
// Ratios are reported, not asserted: these machines are shared and noisy. BENCH_SECONDS
// (default 8) sets each run's length.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const data = mkdtempSync(join(tmpdir(), 'lk-bench-'));
const PID = 'com.day.crx.security.token.impl.impl.TokenAuthenticationHandler';
const admin = `Basic ${Buffer.from('admin:bench-admin').toString('base64')}`;

function spawnServer(args) {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, LATCHKEY_ADMIN_PASSWORD: 'bench-admin', LATCHKEY_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (\S+)\n/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
  });
}

const startServer = () => spawnServer([cli, 'serve', 'publish', '--port', '0', '--data', data]);

async function stop(child) {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

async function form(url, fields, headers = {}) {
  return fetch(url, {
    method: 'POST',
    headers,
    body: new URLSearchParams(fields),
    redirect: 'manual',
  });
}

async function login(url) {
  const res = await form(`${url}/j_security_check`, {
    j_username: 'reader',
    j_password: 'reader-pw',
  });
  return /login-token=([^;]*)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
}

function run(url, headers, request = {}) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: request.url ?? `${url}/content/dam.json`,
        connections,
        duration: seconds,
        headers,
        ...request,
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

function report(name, r) {
  if (r.non2xx > 0) throw new Error(`${name}: ${r.non2xx} responses were not 2xx`);
  const rate = r.requests.average;
  console.log(
    `${name.padEnd(52)} ${rate.toFixed(0).padStart(7)} req/s   p50 ${r.latency.p50} ms   p99 ${r.latency.p99} ms`,
  );
  return rate;
}

const { child, url } = await startServer();
try {
  const mode = (on) =>
    form(
      `${url}/system/console/configMgr/${PID}`,
      { apply: 'true', propertylist: 'token.encapsulated', 'token.encapsulated': String(on) },
      { authorization: admin },
    );
  await form(
    `${url}/libs/granite/security/post/authorizables`,
    { createUser: '', authorizableId: 'reader', 'rep:password': 'reader-pw' },
    { authorization: admin },
  );
  await mode(false);
  const stateful = await login(url);
  await mode(true);
  const encapsulated = await login(url);
  const basic = `Basic ${Buffer.from('reader:reader-pw').toString('base64')}`;
  await run(url, {}); // warm-up

  const scenarios = [
    ['no authentication', {}],
    ['encapsulated token', { cookie: `login-token=${encapsulated}` }],
    ['stateful token', { cookie: `login-token=${stateful}` }],
    ['HTTP Basic (scrypt per request)', { authorization: basic }],
  ];
  console.log('GET /content/dam.json on a publish instance');
  const results = {};
  for (const [name, headers] of scenarios) results[name] = report(name, await run(url, headers));
  const none = results['no authentication'];
  const enc = results['encapsulated token'];
  const sta = results['stateful token'];
  console.log(
    `\nencapsulated / unauthenticated: ${((100 * enc) / none).toFixed(1)} %   (target ≥ 85 %)`,
  );
  console.log(`stateful     / unauthenticated: ${((100 * sta) / none).toFixed(1)} %`);
  console.log(`encapsulated / stateful:        ${(enc / sta).toFixed(2)} ×   (target > 1)`);
} finally {
  await stop(child);
}

// 2. Exchanges per second.
const imsData = join(data, 'ims');
const imsServer = await spawnServer([cli, 'serve', 'ims', '--port', '0', '--data', imsData]);
const peer = await spawnServer([fileURLToPath(new URL('./oidc-peer.js', import.meta.url))]);
try {
  const created = await new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [
      cli,
      'credentials',
      'create',
      '--environment',
      'p1-e1',
      '--data',
      imsData,
    ]);
    let out = '';
    c.stdout.on('data', (d) => {
      out += d;
    });
    c.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out))
        : reject(new Error(`credentials create exited ${code}`)),
    );
  });
  const i = created.integration;
  const { SignJWT } = await import('jose');
  const { createPrivateKey } = await import('node:crypto');
  // One JWT without jti (no replay check), valid for the whole run, posted again and again. Its
  // aud and metascope name the IMS's own URL, as the exchange requires.
  const jwt = await new SignJWT({ [`${imsServer.url}/s/ent_aem_cloud_api`]: true })
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(i.org)
    .setSubject(i.id)
    .setAudience(`${imsServer.url}/c/${i.technicalAccount.clientId}`)
    .setExpirationTime('1h')
    .sign(createPrivateKey(i.privateKey));
  const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };
  const clientFields = {
    client_id: i.technicalAccount.clientId,
    client_secret: i.technicalAccount.clientSecret,
  };
  const post = (url, fields) => ({
    url,
    method: 'POST',
    body: new URLSearchParams(fields).toString(),
  });
  console.log('\ntoken exchange');
  const exchangeRate = report(
    'latchkey POST /ims/exchange/jwt (RS256 in, ES256 out)',
    await run(
      imsServer.url,
      formHeaders,
      post(`${imsServer.url}/ims/exchange/jwt`, { ...clientFields, jwt_token: jwt }),
    ),
  );
  const ccRate = report(
    'latchkey POST /ims/token/v3 (client credentials)',
    await run(
      imsServer.url,
      formHeaders,
      post(`${imsServer.url}/ims/token/v3`, { ...clientFields, grant_type: 'client_credentials' }),
    ),
  );
  const peerRate = report(
    'oidc-provider POST /token (client credentials)',
    await run(
      peer.url,
      formHeaders,
      post(`${peer.url}/token`, {
        grant_type: 'client_credentials',
        client_id: 'bench',
        client_secret: 'bench-secret-bench-secret-bench-secret',
      }),
    ),
  );
  console.log(`\nlatchkey client credentials / oidc-provider: ${(ccRate / peerRate).toFixed(2)} ×`);
  console.log(
    `latchkey JWT exchange / oidc-provider client credentials: ${(exchangeRate / peerRate).toFixed(2)} ×`,
  );
} finally {
  await stop(imsServer.child);
  await stop(peer.child);
  rmSync(data, { recursive: true, force: true });
}
