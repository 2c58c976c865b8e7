// latchkey benchmarks: `npm run bench` (builds first). Requests per second of an authenticated
// GET /content/dam.json on a publish instance running in its own process, with encapsulated
// tokens, stateful tokens, HTTP Basic and no authentication. Ratios are reported, not asserted:
// these machines are shared and noisy. BENCH_SECONDS (default 8) sets each run's length.
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

function startServer() {
  const child = spawn(process.execPath, [cli, 'serve', 'publish', '--port', '0', '--data', data], {
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

function run(url, headers) {
  return new Promise((resolve, reject) => {
    autocannon(
      { url: `${url}/content/dam.json`, connections, duration: seconds, headers },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
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
  const results = {};
  for (const [name, headers] of scenarios) {
    const r = await run(url, headers);
    if (r.non2xx > 0) throw new Error(`${name}: ${r.non2xx} responses were not 2xx`);
    results[name] = r;
    console.log(
      `${name.padEnd(34)} ${r.requests.average.toFixed(0).padStart(7)} req/s   p50 ${r.latency.p50} ms   p99 ${r.latency.p99} ms`,
    );
  }
  const none = results['no authentication'].requests.average;
  const enc = results['encapsulated token'].requests.average;
  const sta = results['stateful token'].requests.average;
  console.log(
    `\nencapsulated / unauthenticated: ${((100 * enc) / none).toFixed(1)} %   (target ≥ 85 %)`,
  );
  console.log(`stateful     / unauthenticated: ${((100 * sta) / none).toFixed(1)} %`);
  console.log(`encapsulated / stateful:        ${(enc / sta).toFixed(2)} ×   (target > 1)`);
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(data, { recursive: true, force: true });
}
