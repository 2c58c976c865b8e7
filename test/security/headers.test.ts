import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, formBody, type HttpResponse, http } from '../helpers/http.js';
import { IMS_ADMIN_PASSWORD, testIms } from '../helpers/ims.js';
import { ADMIN_PASSWORD, type TestInstance, testInstance } from '../helpers/instance.js';

/**
 * Responses as a browser, a shared cache or a proxy sees them: a token, secret or private key
 * stored by a cache for the next user, an error description (which echoes input) sniffed as
 * HTML, a console framed by another site, HTTPS forgotten on the next visit.
 */
let author: TestInstance;
let tlsAuthor: TestInstance;
let ims: Awaited<ReturnType<typeof testIms>>;
const root = mkdtempSync(join(tmpdir(), 'lk-headers-'));

beforeAll(async () => {
  const cert = join(root, 'cert.pem');
  const key = join(root, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat([
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
    ]),
    { stdio: 'ignore' },
  );
  author = await testInstance({ role: 'author' }, { listen: true });
  tlsAuthor = await testInstance(
    { role: 'author', 'tls.cert': cert, 'tls.key': key },
    { listen: true },
  );
  ims = await testIms();
});
afterAll(async () => {
  await author.close();
  await tlsAuthor.close();
  await ims.close();
  rmSync(root, { recursive: true, force: true });
});

const ADMIN = basicAuth('admin', ADMIN_PASSWORD);
const IMS_ADMIN = basicAuth('admin', IMS_ADMIN_PASSWORD);
const post = (url: string, pairs: [string, string][], headers: Record<string, string> = {}) => {
  const f = formBody(pairs);
  return http(url, { method: 'POST', body: f.body, headers: { ...f.headers, ...headers } });
};

function expectNotStored(res: HttpResponse, what: string) {
  expect(res.headers['cache-control'], what).toBe('no-store');
  expect(res.headers.pragma, what).toBe('no-cache');
}

describe('responses carrying tokens, secrets or keys are never stored by a cache', () => {
  it('login, CSRF token, crypto console, protected configurations (instance)', async () => {
    const login = await post(`${author.url}/j_security_check`, [
      ['j_username', 'admin'],
      ['j_password', ADMIN_PASSWORD],
    ]);
    expect(login.status).toBe(200);
    expectNotStored(login, 'login');
    expectNotStored(await http(`${author.url}/libs/granite/csrf/token.json`), 'csrf token');
    const sealed = await post(`${author.url}/system/console/crypto/.json`, [['datum', 'x']], {
      authorization: ADMIN,
    });
    expect(sealed.status).toBe(200);
    expectNotStored(sealed, 'crypto console');
    expectNotStored(
      await http(`${author.url}/system/console/configs.json`, {
        headers: { authorization: ADMIN },
      }),
      'configs',
    );
  });

  it('credentials, exchanges, client credentials, development tokens, validation (IMS)', async () => {
    const created = await post(`${ims.url}/ims/admin/credentials`, [['environment', 'p1-e1']], {
      authorization: IMS_ADMIN,
    });
    expect(created.status).toBe(201);
    expect(created.text).toContain('PRIVATE KEY');
    expectNotStored(created, 'credentials');
    const { clientId, clientSecret } = created.json().integration.technicalAccount;
    const token = await post(`${ims.url}/ims/token/v3`, [
      ['grant_type', 'client_credentials'],
      ['client_id', clientId],
      ['client_secret', clientSecret],
    ]);
    expect(token.status).toBe(200);
    expectNotStored(token, 'token/v3');
    const refused = await post(`${ims.url}/ims/exchange/jwt`, [['client_id', clientId]]);
    expectNotStored(refused, 'exchange');
    const dev = await post(
      `${ims.url}/ims/admin/dev-token`,
      [
        ['user', 'alice'],
        ['environment', 'p1-e1'],
      ],
      { authorization: IMS_ADMIN },
    );
    expect(dev.status).toBe(200);
    expectNotStored(dev, 'dev token');
    expectNotStored(
      await post(`${ims.url}/ims/validate_token/v1`, [['token', token.json().access_token]]),
      'validate',
    );
  });
});

describe('browser protections on every response', () => {
  it('nosniff, no Referer, no foreign framing, also on errors that echo input', async () => {
    // Refused before any hook runs (malformed percent-encoding): still never sniffed nor cached.
    const malformed = await http(`${author.url}/%zz%3Cscript%3E`);
    expect(malformed.status).toBe(400);
    expect(malformed.headers['x-content-type-options']).toBe('nosniff');
    expect(malformed.headers['cache-control']).toBe('no-store');
    for (const res of [
      await http(`${author.url}/content/%3Cscript%3Ealert(1)%3C%2Fscript%3E.json`, {
        headers: { authorization: ADMIN },
      }),
      await http(`${author.url}/content.json`, { headers: { authorization: ADMIN } }),
      await http(`${ims.url}/ims/keys`),
      await post(`${ims.url}/ims/token/v3`, [['grant_type', '<b>x</b>']]),
    ]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(String(res.headers['content-security-policy'])).toContain("frame-ancestors 'self'");
      expect(String(res.headers['content-type'])).toContain('application/json');
    }
  });

  it('HSTS under TLS only', async () => {
    const tls = await http(`${tlsAuthor.url}/system/health`);
    expect(tls.status).toBe(200);
    expect(String(tls.headers['strict-transport-security'])).toContain('max-age=31536000');
    const plain = await http(`${author.url}/system/health`);
    expect(plain.headers['strict-transport-security']).toBeUndefined();
    expect(String(plain.headers['content-security-policy'])).not.toContain(
      'upgrade-insecure-requests',
    );
  });
});
