import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ImsConnection, TrustedClient } from '../../src/auth/bearer/ims-connection.js';
import { JwksCache } from '../../src/auth/bearer/jwks-cache.js';
import { exchange } from '../../src/client/exchange.js';
import { loadConfig } from '../../src/config/load.js';
import { createCredentials } from '../../src/ims/credentials.js';
import { startIms } from '../../src/runtime/ims.js';
import { testInstance } from '../helpers/instance.js';

const root = mkdtempSync(join(tmpdir(), 'lk-rs256-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('RS256 access tokens', () => {
  it('are issued when configured, and instances accept them', async () => {
    const config = loadConfig({
      env: {},
      flags: {
        role: 'ims',
        data: root,
        port: 0,
        logLevel: 'silent',
        'ims.accessTokenAlgorithm': 'RS256',
      },
    });
    const ims = await startIms(config, { logger: false });
    const author = await testInstance({ role: 'author', 'ims.url': ims.url });
    try {
      const creds = await createCredentials(ims.store, {
        environment: 'p1-e1',
        imsEndpoint: ims.url.replace('http://', ''),
      });
      const { access_token } = await exchange(creds);
      const header = JSON.parse(Buffer.from(access_token.split('.')[0]!, 'base64url').toString());
      expect(header.alg).toBe('RS256');
      const jwks = (await (await fetch(`${ims.url}/ims/keys`)).json()) as {
        keys: { kty: string }[];
      };
      expect(jwks.keys.map((k) => k.kty)).toEqual(['RSA']);
      const res = await author.app.inject({
        url: '/content/dam.json',
        headers: { authorization: `Bearer ${access_token}` },
      });
      expect(res.statusCode).toBe(200);
    } finally {
      await author.close();
      await ims.close();
    }
  });
});

describe('JWKS cache', () => {
  it('refetches on an unknown kid at most once per interval', async () => {
    let calls = 0;
    const server = (await import('node:http')).createServer((_req, res) => {
      calls++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [], issuer: 'http://127.0.0.1/ims' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const url = `http://127.0.0.1:${port}`;
      const cache = new JwksCache(new ImsConnection(url, new TrustedClient()), 60_000);
      for (let i = 0; i < 20; i++) expect(await cache.get(`forged-${i}`)).toBeUndefined();
      expect(calls).toBe(1);
    } finally {
      server.close();
    }
  });
});
