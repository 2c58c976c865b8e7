import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startServer } from '../helpers/process.js';

const root = mkdtempSync(join(tmpdir(), 'lk-tls-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function selfSigned(): { cert: string; key: string } {
  const cert = join(root, 'cert.pem');
  const key = join(root, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

function getJson(url: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    request(url, { rejectUnauthorized: false }, (res) => {
      let data = '';
      res.on('data', (c) => {
        data += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) }));
    })
      .on('error', reject)
      .end();
  });
}

describe('HTTPS', () => {
  it('serves HTTPS with --tls-cert and --tls-key', async () => {
    const { cert, key } = selfSigned();
    const server = await startServer([
      'serve',
      'publish',
      '--port',
      '0',
      '--data',
      join(root, 'data'),
      '--tls-cert',
      cert,
      '--tls-key',
      key,
    ]);
    try {
      expect(server.url).toMatch(/^https:\/\//);
      const res = await getJson(`${server.url}/content.json`);
      expect(res.status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('serves the IMS over HTTPS too', async () => {
    const { cert, key } = selfSigned();
    const server = await startServer([
      'serve',
      'ims',
      '--port',
      '0',
      '--data',
      join(root, 'ims'),
      '--tls-cert',
      cert,
      '--tls-key',
      key,
    ]);
    try {
      expect(server.url).toMatch(/^https:\/\//);
      const res = await getJson(`${server.url}/ims/keys`);
      expect(res.status).toBe(200);
      expect((res.body as { keys: unknown[] }).keys.length).toBe(1);
    } finally {
      await server.stop();
    }
  });

  it('names the option when a TLS file cannot be read', async () => {
    const res = await runCli([
      'serve',
      'author',
      '--port',
      '0',
      '--data',
      join(root, 'bad'),
      '--tls-cert',
      join(root, 'missing.pem'),
      '--tls-key',
      join(root, 'missing.key'),
    ]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      /^latchkey: invalid configuration: tls\.cert: cannot read .*missing\.pem: ENOENT/,
    );
  });
});
