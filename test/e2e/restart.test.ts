import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { basic } from '../helpers/instance.js';
import { runCli, startServer } from '../helpers/process.js';

const root = mkdtempSync(join(tmpdir(), 'lk-e2e-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const postForm = (url: string, auth: string, fields: Record<string, string>) =>
  fetch(url, {
    method: 'POST',
    headers: { authorization: auth },
    body: new URLSearchParams(fields),
  });

describe('a real author process', () => {
  it('keeps content, users and the admin password across stop and start', async () => {
    const data = join(root, 'restart');
    const first = await startServer(['serve', 'author', '--port', '0', '--data', data]);
    expect(first.password).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const admin = basic('admin', first.password!);
    expect(
      (await postForm(`${first.url}/content/site`, admin, { 'jcr:title': 'Kept' })).status,
    ).toBe(201);
    const user = await postForm(`${first.url}/libs/granite/security/post/authorizables`, admin, {
      createUser: '',
      authorizableId: 'erin',
      'rep:password': 'erin-pw',
    });
    expect(user.status).toBe(201);
    expect(await first.stop()).toBe(0);
    // The data folder holds password hashes: only its owner may enter it.
    expect(statSync(data).mode & 0o077).toBe(0);

    const second = await startServer(['serve', 'author', '--port', '0', '--data', data]);
    try {
      expect(second.password).toBeUndefined(); // printed once, on the first start only
      const page = await fetch(`${second.url}/content/site.json`, {
        headers: { authorization: admin },
      });
      expect(page.status).toBe(200);
      expect(((await page.json()) as Record<string, unknown>)['jcr:title']).toBe('Kept');
      const erin = await fetch(`${second.url}/home/users/e/erin.json`, {
        headers: { authorization: basic('erin', 'erin-pw') },
      });
      expect(erin.status).toBe(200);
    } finally {
      await second.stop();
    }
  });

  it('takes the admin password from LATCHKEY_ADMIN_PASSWORD and prints none', async () => {
    const data = join(root, 'env-password');
    const server = await startServer(['serve', 'author', '--port', '0', '--data', data], {
      LATCHKEY_ADMIN_PASSWORD: 'chosen-pw',
    });
    try {
      expect(server.password).toBeUndefined();
      expect(server.stdout()).not.toContain('chosen-pw');
      const res = await fetch(`${server.url}/content.json`, {
        headers: { authorization: basic('admin', 'chosen-pw') },
      });
      expect(res.status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('latchkey start runs the IMS and an author instance that accepts its tokens', async () => {
    const data = join(root, 'start');
    const server = await startServer(
      ['start', '--port', '0', '--ims-port', '0', '--data', data],
      {},
      'author',
    );
    try {
      // The IMS speaks HTTPS with the data folder's local CA; the author plain HTTP.
      expect(server.stdout()).toMatch(/latchkey ims listening on https:\/\/127\.0\.0\.1:\d+/);
      expect(server.url).toMatch(/^http:\/\//);
      expect((await fetch(`${server.url}/system/health`)).status).toBe(200);
      expect(statSync(join(data, 'author.sqlite')).isFile()).toBe(true);
      expect(statSync(join(data, 'ims.sqlite')).isFile()).toBe(true);
      // The seed's flow: credentials, exchange, then a bearer call to the author.
      const created = await runCli([
        'credentials',
        'create',
        '--environment',
        'p1-e1',
        '--data',
        data,
      ]);
      expect(created.code, created.stderr).toBe(0);
      const file = join(root, 'credentials.json');
      writeFileSync(file, created.stdout);
      const exchanged = await runCli(['credentials', 'exchange', file], {
        NODE_EXTRA_CA_CERTS: join(data, 'tls', 'ca.crt'),
      });
      expect(exchanged.code, exchanged.stderr).toBe(0);
      const { access_token: token, expires_in } = JSON.parse(exchanged.stdout) as {
        access_token: string;
        expires_in: number;
      };
      expect(expires_in).toBe(86_399_999);
      const res = await fetch(`${server.url}/content/dam.json`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
    } finally {
      expect(await server.stop('SIGINT')).toBe(0);
    }
  });

  it('publish serves /content anonymously', async () => {
    const server = await startServer([
      'serve',
      'publish',
      '--port',
      '0',
      '--data',
      join(root, 'publish'),
    ]);
    try {
      expect((await fetch(`${server.url}/content.json`)).status).toBe(200);
      expect((await fetch(`${server.url}/etc.json`)).status).toBe(404);
    } finally {
      await server.stop();
    }
  });
});

describe('CLI errors', () => {
  it('exits 2 with a one-line reason naming the option for a bad flag value', async () => {
    const res = await runCli(['serve', 'author', '--port', 'eighty', '--data', join(root, 'bad')]);
    expect(res.code).toBe(2);
    expect(res.stderr.trim()).toBe(
      'latchkey: invalid configuration: port (from flag for port) must be an integer from 0 to 65535, got "eighty"',
    );
  });

  it('exits 2 for an unknown command or role', async () => {
    expect((await runCli(['frobnicate'])).code).toBe(2);
    const role = await runCli(['serve', 'editor', '--data', join(root, 'bad')]);
    expect(role.code).toBe(2);
    expect(role.stderr).toContain('role');
  });

  it('exits 1 saying the port is in use', async () => {
    const data = join(root, 'busy');
    const server = await startServer(['serve', 'author', '--port', '0', '--data', data]);
    try {
      const port = new URL(server.url).port;
      const res = await runCli(['serve', 'author', '--port', port, '--data', join(root, 'busy2')], {
        LATCHKEY_SECURITY_PASSWORD_HASH_COST: '10',
      });
      expect(res.code).toBe(1);
      expect(res.stderr).toContain('the port is in use');
    } finally {
      await server.stop();
    }
  });

  it('prints the effective configuration with secrets hidden', async () => {
    const res = await runCli(['config', 'print', '--role', 'publish'], {
      LATCHKEY_ADMIN_PASSWORD: 'topsecret',
    });
    expect(res.code).toBe(0);
    const printed = JSON.parse(res.stdout);
    expect(printed).toMatchObject({ role: 'publish', port: 4503, adminPassword: '***' });
    expect(res.stdout).not.toContain('topsecret');
  });
});

describe('keys that vanish', () => {
  it('refuses to start, naming the missing key, where it looked and the fix, and creates nothing', async () => {
    const data = join(root, 'vanish');
    const first = await startServer(['serve', 'author', '--port', '0', '--data', data]);
    await first.stop();
    const status = await runCli(['keys', 'fingerprint', '--data', data]);
    const masterId = /^master (\w{16}) primary/m.exec(status.stdout)?.[1];
    expect(masterId).toBeDefined();
    rmSync(join(data, 'crypto', 'master'));
    rmSync(join(data, 'crypto', 'hmac'));
    const res = await runCli(['serve', 'author', '--port', '0', '--data', data], {
      LATCHKEY_SECURITY_PASSWORD_HASH_COST: '10',
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`master key ${masterId} is missing`);
    expect(res.stderr).toContain(join(data, 'crypto', 'master'));
    expect(res.stderr).toContain('latchkey keys import');
    expect(existsSync(join(data, 'crypto', 'master'))).toBe(false);
  });
});
