import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { http } from '../helpers/http.js';
import { basic } from '../helpers/instance.js';
import { cliInCheckout, freshCheckout, runInCheckout, urlOf } from '../helpers/quick-start.js';

// Secret hygiene, proven on real processes: `latchkey start` and the commands a user runs beside
// it write their log lines (stdout, stderr) and audit lines while passwords (right and wrong),
// login tokens, client secrets, private keys, access and development tokens, key bundles and
// protected plaintexts go through them. Every line is collected, and none may contain any secret
// the test created or saw, nor anything shaped like a private key, a JWT or a login token.

const checkout = freshCheckout();
const root = mkdtempSync(join(tmpdir(), 'lk-hygiene-'));
const data = join(root, 'latchkey-data');
afterAll(() => {
  rmSync(checkout, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});

const fresh = (what: string) => `${what}-${randomBytes(12).toString('base64url')}`;
const ADMIN_PASSWORD = fresh('AdminPw');
const ENV = {
  LATCHKEY_ADMIN_PASSWORD: ADMIN_PASSWORD,
  LATCHKEY_SECURITY_PASSWORD_HASH_COST: '10',
  LATCHKEY_LOG_LEVEL: 'info',
};

/** Every file under `dir` (recursively) whose name says it is a log. */
function logFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...logFiles(path));
    else if (/\.log(\.|$)/.test(entry.name) && statSync(path).size > 0) out.push(path);
  }
  return out;
}

describe('secret hygiene', () => {
  it('no log or audit line of start, logins, exchanges, credentials, tokens, keys and password changes holds a secret', async () => {
    const secrets = new Map<string, string>(); // value → what it is
    const keep = (what: string, value: string | undefined) => {
      if (value && value.length >= 8) secrets.set(value, what);
    };
    keep('admin password', ADMIN_PASSWORD);
    const lines: { source: string; text: string }[] = [];
    const collect = (source: string, text: string) => {
      for (const line of text.split('\n')) if (line.trim()) lines.push({ source, text: line });
    };
    const cli = async (args: string[], input?: string) => {
      const r = await cliInCheckout(checkout, [...args, '--data', data], {
        env: ENV,
        ...(input === undefined ? {} : { input }),
      });
      collect(`latchkey ${args[0]} ${args[1] ?? ''} (stderr)`, r.stderr);
      return r;
    };

    const server = runInCheckout(
      checkout,
      ['start', '--data', data, '--port', '0', '--ims-port', '0'],
      ENV,
    );
    try {
      await server.waitFor(/latchkey author listening on .*\n/, 90_000);
      const author = urlOf(server.stdout(), 'author');
      const ims = urlOf(server.stdout(), 'ims');
      const form = (fields: Record<string, string>) => ({
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      });

      // Logins, right and wrong, on the author's form, by Basic, and at the IMS.
      const wrong = fresh('WrongPw');
      keep('wrong password', wrong);
      expect(
        (await http(`${author}/j_security_check`, form({ j_username: 'admin', j_password: wrong })))
          .status,
      ).toBe(403);
      const login = await http(
        `${author}/j_security_check`,
        form({ j_username: 'admin', j_password: ADMIN_PASSWORD }),
      );
      expect(login.status).toBe(200);
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;
      keep('login token', cookie.slice(cookie.indexOf('=') + 1));
      expect((await http(`${author}/content.json`, { headers: { cookie } })).status).toBeLessThan(
        500,
      );
      expect(
        (
          await http(`${author}/content.json`, {
            headers: { authorization: basic('admin', wrong) },
          })
        ).status,
      ).toBe(401);
      expect(
        (
          await http(`${ims}/ims/admin/dev-tokens`, {
            headers: { authorization: basic('admin', wrong) },
          })
        ).status,
      ).toBe(401);
      const garbageCookie = `s1.${randomBytes(30).toString('base64url')}`;
      keep('presented token', garbageCookie);
      await http(`${author}/content.json`, { headers: { cookie: `login-token=${garbageCookie}` } });

      // A user, her password changed by the administrator.
      const alicePw = fresh('AlicePw');
      const alicePw2 = fresh('AliceNewPw');
      keep('user password', alicePw);
      keep('changed password', alicePw2);
      const admin = { authorization: basic('admin', ADMIN_PASSWORD) };
      const created = await http(`${author}/libs/granite/security/post/authorizables`, {
        ...form({ createUser: '1', authorizableId: 'alice', 'rep:password': alicePw }),
        headers: { ...form({}).headers, ...admin },
      });
      expect(created.status).toBe(201);
      const home = String(created.headers['location']);
      const changed = await http(`${author}${home}`, {
        ...form({ 'rep:password': alicePw2 }),
        headers: { ...form({}).headers, ...admin },
      });
      expect(changed.status).toBeLessThan(300);
      expect(
        (
          await http(
            `${author}/j_security_check`,
            form({ j_username: 'alice', j_password: alicePw }),
          )
        ).status,
      ).toBe(403);
      expect(
        (
          await http(
            `${author}/j_security_check`,
            form({ j_username: 'alice', j_password: alicePw2 }),
          )
        ).status,
      ).toBe(200);

      // Service credentials, their exchange (right and wrong secret), a call with the token.
      const credsRun = await cli(['credentials', 'create', '--environment', 'p1-e1']);
      expect(credsRun.code, credsRun.stderr).toBe(0);
      const creds = JSON.parse(credsRun.stdout).integration;
      keep('client secret', creds.technicalAccount.clientSecret);
      keep('private key', creds.privateKey);
      for (const line of String(creds.privateKey).split(/\r?\n/))
        if (line.length >= 40) keep('private key line', line);
      const token = await http(
        `${ims}/ims/token/v3`,
        form({
          grant_type: 'client_credentials',
          client_id: creds.technicalAccount.clientId,
          client_secret: creds.technicalAccount.clientSecret,
          scope: 'ent_aem_cloud_api',
        }),
      );
      expect(token.status, token.text).toBe(200);
      const accessToken = token.json().access_token as string;
      keep('access token', accessToken);
      keep('access token signature', accessToken.split('.')[2]);
      const badSecret = fresh('BadClientSecret');
      keep('wrong client secret', badSecret);
      expect(
        (
          await http(
            `${ims}/ims/token/v3`,
            form({
              grant_type: 'client_credentials',
              client_id: creds.technicalAccount.clientId,
              client_secret: badSecret,
            }),
          )
        ).json().error,
      ).toBe('invalid_client');
      expect(
        (
          await http(`${author}/content.json`, {
            headers: { authorization: `Bearer ${accessToken}` },
          })
        ).status,
      ).toBeLessThan(500);

      // Secrets in the query string, as Adobe's token endpoint allows: request logs name the URL.
      const querySecret = fresh('QuerySecret');
      keep('client secret in a query', querySecret);
      const query = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: creds.technicalAccount.clientId,
        client_secret: querySecret,
      });
      await http(`${ims}/ims/token/v3?${query}`, { method: 'POST' });
      await http(`${author}/content.json?j_password=${encodeURIComponent(querySecret)}`);

      // A local development token.
      const dev = await cli(['token', 'dev', '--user', 'alice', '--environment', 'p1-e1']);
      expect(dev.code, dev.stderr).toBe(0);
      const devToken = JSON.parse(dev.stdout).accessToken as string;
      keep('development token', devToken);
      keep('development token signature', devToken.split('.')[2]);
      expect(
        (await http(`${author}/content.json`, { headers: { authorization: `Bearer ${devToken}` } }))
          .status,
      ).toBeLessThan(500);

      // Keys: a protected value and an export, plain and sealed.
      const plaintext = fresh('ProtectMe');
      keep('protected plaintext', plaintext);
      const sealed = await http(`${author}/system/console/crypto/.json`, {
        ...form({ datum: plaintext }),
        headers: { ...form({}).headers, ...admin },
      });
      expect(sealed.status).toBe(200);
      const cliPlaintext = fresh('CliProtect');
      keep('protected plaintext (command line)', cliPlaintext);
      const protect = await cli(['protect', cliPlaintext, '--role', 'author']);
      collect('latchkey protect (stdout)', protect.stdout);
      const passphrase = fresh('Passphrase');
      keep('bundle passphrase', passphrase);
      writeFileSync(join(root, 'pass.txt'), passphrase);
      const plainOut = join(root, 'keys.json');
      const exportPlain = await cli(['keys', 'export', '--out', plainOut, '--role', 'author']);
      const exportSealed = await cli([
        'keys',
        'export',
        '--out',
        join(root, 'sealed.json'),
        '--role',
        'author',
        '--passphrase-file',
        join(root, 'pass.txt'),
      ]);
      for (const r of [exportPlain, exportSealed]) collect('keys export (stdout)', r.stdout);
      if (exportPlain.code === 0) {
        const bundle = JSON.parse(readFileSync(plainOut, 'utf8'));
        for (const k of [...bundle.keys.master, ...bundle.keys.hmac]) keep('exported key', k);
      }
    } finally {
      await server.stop('SIGINT');
    }
    collect('server stdout', server.stdout());
    collect('server stderr', server.stderr());
    const audit = await cli(['audit', '--json']);
    expect(audit.code, audit.stderr).toBe(0);
    collect('latchkey audit --json', audit.stdout);
    for (const file of logFiles(data)) collect(file, readFileSync(file, 'utf8'));

    // The collection saw the flows: failures, logins, credentials, tokens, password change.
    const all = lines.map((l) => l.text).join('\n');
    for (const seen of [
      '"type":"login","outcome":"failure"',
      '"type":"login","outcome":"success"',
      '"type":"credentials.created"',
      '"type":"token.issued"',
      '"type":"user.password-changed"',
      '"type":"keys.exported"',
    ])
      expect(all, seen).toContain(seen);
    expect(lines.length).toBeGreaterThan(20);

    const leaks: string[] = [];
    for (const { source, text } of lines) {
      for (const [value, what] of secrets)
        if (text.includes(value)) leaks.push(`${what} in ${source}: ${text.slice(0, 200)}`);
      if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) leaks.push(`a private key in ${source}`);
      if (/eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{20,}/.test(text))
        leaks.push(`a JWT in ${source}: ${text.slice(0, 200)}`);
      if (/\b[se]1\.[\w-]+\.[\w-]+\.[\w-]{30,}/.test(text))
        leaks.push(`a login token in ${source}`);
    }
    expect(leaks).toEqual([]);
    expect(secrets.size).toBeGreaterThan(15);
  }, 240_000);
});
