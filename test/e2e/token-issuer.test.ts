import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { http } from '../helpers/http.js';
import { runCli, startServer } from '../helpers/process.js';

const root = mkdtempSync(join(tmpdir(), 'lk-issuer-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe("an access token's issuer", () => {
  // Regression: started with --port 0, tokens carried http://127.0.0.1:0/ims, an issuer no
  // discovery document named.
  it('is the discovery document’s issuer, with latchkey start --port 0 --ims-port 0, as README says', async () => {
    const data = join(root, 'data');
    const ims = await startServer(
      ['start', '--port', '0', '--ims-port', '0', '--data', data],
      {},
      'ims',
    );
    try {
      const author = /latchkey author listening on (\S+)/.exec(ims.stdout())![1]!;
      const ca = join(data, 'tls', 'ca.crt');
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
        NODE_EXTRA_CA_CERTS: ca,
      });
      expect(exchanged.code, exchanged.stderr).toBe(0);
      const token = JSON.parse(exchanged.stdout).access_token as string;

      const discovery = await http(`${ims.url}/ims/.well-known/openid-configuration`, {
        ca: readFileSync(ca),
      });
      const { issuer } = discovery.json() as { issuer: string };
      expect(issuer).toBe(`${ims.url}/ims`);
      expect(issuer).not.toMatch(/:0\//);
      expect(claimsOf(token)['iss']).toBe(issuer);
      // The JWKS names the same issuer, and the author (which checks iss against it) accepts it.
      const jwks = await http(`${ims.url}/ims/keys`, { ca: readFileSync(ca) });
      expect(jwks.json().issuer).toBe(issuer);
      const read = await fetch(`${author}/content/dam.json`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(read.status).toBe(200);
    } finally {
      await ims.stop();
    }
  }, 90_000);
});
