import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { runCli, startServer } from '../helpers/process.js';

// The command line as a user runs it: the real `latchkey` process on a data folder that
// `latchkey start` made, output parsed as printed.
const root = mkdtempSync(join(tmpdir(), 'lk-commands-'));
const data = join(root, 'data');
afterAll(() => rmSync(root, { recursive: true, force: true }));
// Each test runs the CLI a dozen times or more; on a busy machine that is many seconds.
vi.setConfig({ testTimeout: 120_000 });

const cli = (...args: string[]) => runCli([...args, '--data', data]);
const json = async (...args: string[]) => {
  const r = await cli(...args, '--json');
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.code, args.join(' ')).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};
const hex = (cert: string) =>
  new X509Certificate(cert).fingerprint256.replaceAll(':', '').toLowerCase();

beforeAll(async () => {
  const server = await startServer(
    ['start', '--data', data, '--port', '0', '--ims-port', '0'],
    { LATCHKEY_ADMIN_PASSWORD: 'a-long-admin-password' },
    'author',
  );
  await server.stop();
}, 60_000);

describe('latchkey --version', () => {
  it('prints the version of package.json and exits 0', async () => {
    const { version } = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });
});

describe.concurrent('usage errors exit 2, failures exit 1', () => {
  it.each([
    [['no-such-command'], /unknown command 'no-such-command'/],
    [['keys', 'status', '--no-such-flag'], /unknown option '--no-such-flag'/],
    [['credentials', 'revoke'], /missing required argument 'client-id'/],
    [['keys', 'migrate'], /required option '--to <storage>' not specified/],
    [['keys', 'rotate', 'everything'], /rotate takes master or hmac/],
    [['keys', 'migrate', '--to', 'cloud'], /--to must be file or repository/],
    [['audit', '--limit', 'many'], /--limit takes a positive integer/],
    [['ims', 'rotate-signing-key', '--publish-ahead-ms', 'soon'], /--publish-ahead-ms/],
    [['credentials', 'create', '--environment', 'production'], /environment must look like p1-e1/],
    [['token', 'dev', '--user', 'alice', '--environment', 'p1'], /environment must look like/],
    [['credentials', 'remove-certificate', 'cm-p1-e1-integration', 'AB:CD'], /64 hex digits/],
    [['serve', 'backend'], /role .* must be one of author, publish, ims/],
    [['config', 'print', '--port', 'eighty'], /port .* must be an integer/],
  ])('%j', async (args, message) => {
    const r = await cli(...args);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^latchkey: /);
    expect(r.code).toBe(2);
  });

  it('a file argument that cannot be read is a usage error too', async () => {
    const r = await runCli(['credentials', 'exchange', join(root, 'missing.json')]);
    expect(r.stderr).toMatch(/^latchkey: cannot read service credentials from .*: ENOENT/);
    expect(r.code).toBe(2);
  });

  it('an operation that fails is 1: the command line was right', async () => {
    const r = await cli('credentials', 'revoke', 'cm-p9-e9-integration');
    expect(r.stderr).toContain('no integration cm-p9-e9-integration');
    expect(r.code).toBe(1);
    const env = await cli('token', 'dev', '--user', 'alice', '--environment', 'p7-e7');
    expect(env.stderr).toContain('no environment p7-e7');
    expect(env.code).toBe(1);
  });
});

describe('latchkey protect and unprotect', () => {
  it('read the value from a pipe, from - and from the argument', async () => {
    const secret = 'p8e-secret with spaces and ünïcode';
    const piped = await runCli(['protect', '--data', data], {}, secret);
    expect(piped.stderr).toBe('');
    expect(piped.code).toBe(0);
    const sealed = piped.stdout.trim();
    expect(sealed).toMatch(/^\{lk1\.[0-9a-f]{16}\.[A-Za-z0-9_-]+\}$/);
    expect(sealed).not.toContain('secret');
    // One trailing line break (echo) is not part of the value.
    const dash = await runCli(['protect', '-', '--data', data], {}, `${secret}\n`);
    const argv = await runCli(['protect', secret, '--data', data]);
    for (const s of [sealed, dash.stdout.trim(), argv.stdout.trim()]) {
      expect((await runCli(['unprotect', s, '--data', data])).stdout).toBe(`${secret}\n`);
      expect((await runCli(['unprotect', '--data', data], {}, `${s}\n`)).stdout).toBe(
        `${secret}\n`,
      );
    }
  });

  it('refuse an empty standard input (exit 2), and a folder without a store before reading it', async () => {
    const empty = await runCli(['protect', '--data', data], {}, '');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('nothing on standard input');
    expect(empty.stdout).toBe('');
    const noStore = await runCli(['protect', '--data', join(root, 'empty')], {}, 'x');
    expect(noStore.code).toBe(2);
    expect(noStore.stderr).toMatch(/^latchkey: no_store: /);
  });
});

describe('latchkey credentials', () => {
  let created: { integration: Record<string, unknown> };
  let clientId: string;

  it('create needs no --environment when the IMS has one; list shows it (text and --json)', async () => {
    const out = join(root, 'credentials.json');
    const r = await cli('credentials', 'create', '--out', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    created = JSON.parse(readFileSync(out, 'utf8'));
    clientId = String((created.integration['technicalAccount'] as Record<string, string>).clientId);
    expect(clientId).toBe('cm-p1-e1-integration');
    const print = hex(String(created.integration['publicKey']));

    const text = await cli('credentials', 'list');
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^cm-p1-e1-integration {2}p1-e1 {2}created \d{4}-\d\d-\d\dT[\d:.]+Z {2}active$/,
    );
    expect(lines[1]).toMatch(
      new RegExp(`^ {2}certificate sha256 ${print} {2}expires \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z$`),
    );
    expect(text.stdout).not.toContain(
      (created.integration['technicalAccount'] as Record<string, string>).clientSecret,
    );

    const listed = (await json('credentials', 'list')) as {
      integrations: {
        clientId: string;
        environmentId: string;
        createdAt: string;
        revoked: boolean;
        certificates: { fingerprint: string; notAfter: string }[];
      }[];
    };
    expect(listed.integrations).toHaveLength(1);
    const [i] = listed.integrations;
    expect(i).toMatchObject({ clientId, environmentId: 'p1-e1', revoked: false });
    expect(Date.parse(i!.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(i!.certificates).toEqual([
      {
        fingerprint: print,
        subject: `CN=${clientId}`,
        notBefore: expect.any(String),
        notAfter: new Date(new X509Certificate(String(created.integration['publicKey'])).validTo)
          .toISOString()
          .replace(/\.\d{3}Z$/, '.000Z'),
      },
    ]);
    expect(JSON.stringify(listed)).not.toMatch(/secret|PRIVATE KEY/i);
  });

  it('add-certificate prints its fingerprint; remove-certificate takes it as list shows it, with or without colons', async () => {
    // A second integration's certificate stands for the new key of the first.
    const second = JSON.parse((await cli('credentials', 'create')).stdout) as typeof created;
    const pem = join(root, 'new-cert.pem');
    writeFileSync(pem, String(second.integration['publicKey']));
    const newPrint = hex(String(second.integration['publicKey']));
    const oldPrint = hex(String(created.integration['publicKey']));

    const added = await cli('credentials', 'add-certificate', clientId, pem);
    expect(added.code).toBe(0);
    expect(added.stdout).toContain(`certificate sha256 ${newPrint} added to ${clientId}`);
    const listed = (await json('credentials', 'list', '--environment', 'p1-e1')) as {
      integrations: { clientId: string; certificates: { fingerprint: string }[] }[];
    };
    const mine = listed.integrations.find((x) => x.clientId === clientId)!;
    expect(mine.certificates.map((c) => c.fingerprint)).toEqual([oldPrint, newPrint]);

    // Adding it again changes nothing and says so with the same fingerprint (JSON).
    expect(await json('credentials', 'add-certificate', clientId, pem)).toEqual({
      clientId,
      certificates: 2,
      fingerprint: newPrint,
    });

    // Lowercase with colons, as a person may copy it from elsewhere.
    const colons = oldPrint.match(/../g)!.join(':');
    const removed = await cli('credentials', 'remove-certificate', clientId, colons);
    expect(removed.stderr).toBe('');
    expect(removed.stdout).toContain(`certificate sha256 ${oldPrint} removed from ${clientId}`);
    const last = await cli('credentials', 'remove-certificate', clientId, newPrint);
    expect(last.code).toBe(1); // not a usage error: the integration's state forbids it
    expect(last.stderr).toContain('keeps at least one certificate');
    const unknown = await cli('credentials', 'remove-certificate', clientId, oldPrint);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no such certificate');
    const notPem = join(root, 'not.pem');
    writeFileSync(notPem, 'hello');
    const bad = await cli('credentials', 'add-certificate', clientId, notPem);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('X.509 certificate in PEM');
  });

  it('revoke --json, and list shows the integration revoked', async () => {
    expect(await json('credentials', 'revoke', clientId)).toEqual({ revoked: clientId });
    const text = await cli('credentials', 'list');
    expect(text.stdout).toMatch(
      new RegExp(`^${clientId} {2}p1-e1 {2}created \\S+ {2}REVOKED$`, 'm'),
    );
  });
});

describe('latchkey token dev', () => {
  it('needs no --environment when the IMS has one, and asks for one when it has several', async () => {
    const one = await cli('token', 'dev', '--user', 'alice');
    expect(one.stderr).toBe('');
    const { accessToken } = JSON.parse(one.stdout) as { accessToken: string };
    const claims = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString());
    expect(claims).toMatchObject({ user_id: 'alice', env: 'p1-e1' });

    // A second environment in the same organization (as a larger IMS has).
    const store = new SqliteStore(join(data, 'ims.sqlite'));
    try {
      const p1e1 = (await store.getRecord('ims.environment', 'p1-e1'))!.value as Record<
        string,
        unknown
      >;
      await store.putRecord('ims.environment', 'p2-e3', {
        ...p1e1,
        id: 'p2-e3',
        program: 2,
        environment: 3,
      });
    } finally {
      await store.close();
    }
    const several = await cli('token', 'dev', '--user', 'alice');
    expect(several.code).toBe(2);
    expect(several.stderr).toContain(
      'this IMS has 2 environments (p1-e1, p2-e3): choose one with --environment',
    );
    expect(several.stdout).toBe('');
    const chosen = await cli('token', 'dev', '--user', 'alice', '--environment', 'p2-e3');
    expect(chosen.code).toBe(0);
    const creds = await cli('credentials', 'create');
    expect(creds.code).toBe(2);
    expect(creds.stderr).toContain('choose one with --environment');
  });
});

/** Every leaf command with its help, from the help the CLI prints. */
async function leafCommands(path: string[] = []): Promise<{ path: string; help: string }[]> {
  const help = (await runCli([...path, '--help'])).stdout;
  const section = help.split(/^Commands:$/m)[1];
  if (section === undefined) return [{ path: path.join(' '), help }];
  const names = [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)]
    .map((m) => m[1]!)
    .filter((n) => n !== 'help');
  return (await Promise.all(names.map((n) => leafCommands([...path, n])))).flat();
}

describe('--json on every command that prints a report', () => {
  // What prints no report: servers, commands whose output is JSON already or is one value.
  const NOT_REPORTS = new Set([
    'start',
    'serve',
    'config print', // JSON already
    'credentials create', // the credentials JSON
    'credentials exchange', // the token JSON
    'token dev', // the token JSON
    'protect', // one value
    'unprotect',
    'admin reset-password', // one value: the new password when it is generated
  ]);

  it('every other command takes --json', async () => {
    const leaves = await leafCommands();
    expect(leaves.map((l) => l.path)).toContain('credentials list');
    const without = leaves
      .filter((l) => !NOT_REPORTS.has(l.path) && !/^ {2}--json\b/m.test(l.help))
      .map((l) => l.path);
    expect(without).toEqual([]);
  });

  it('prints one JSON document that scripts can parse', async () => {
    const status = await json('keys', 'status');
    expect(status).toMatchObject({ ok: true });
    const prints = (await json('keys', 'fingerprint')) as {
      keys: { kind: string; id: string; primary: boolean; sha256: string }[];
    };
    expect(prints.keys.map((k) => [k.kind, k.primary])).toEqual([
      ['master', true],
      ['hmac', true],
    ]);
    expect(prints.keys[0]!.sha256.startsWith(prints.keys[0]!.id)).toBe(true);
    expect(await json('keys', 'verify')).toMatchObject({ ok: true, failed: [] });
    const rotated = await json('keys', 'rotate', 'hmac');
    expect(rotated).toMatchObject({ kind: 'hmac', previous: prints.keys[1]!.id });
    expect(await json('keys', 'rewrap')).toMatchObject({ failed: [] });
    const out = join(root, 'keys.bundle');
    expect(await json('keys', 'export', '--out', out)).toMatchObject({ file: out, sealed: false });
    expect(await json('ims', 'public-url')).toMatchObject({ url: expect.stringMatching(/^http/) });
    expect(await json('ims', 'rotate-signing-key')).toMatchObject({ kid: expect.any(String) });
    expect(await json('token', 'list')).toMatchObject({ tokens: expect.any(Array) });
    expect(await json('token', 'revoke', '--user', 'alice')).toEqual({ revoked: 2 });
    expect(await json('users', 'logout', 'admin')).toEqual({ sessionsEnded: 'admin' });
    const options = await runCli(['config', 'options', '--json']);
    expect(JSON.parse(options.stdout)).toMatchObject({
      options: expect.arrayContaining([
        { name: 'port', env: 'LATCHKEY_PORT', default: null, doc: expect.any(String) },
      ]),
    });
    const audit = await cli('audit', '--json', '--limit', '1');
    expect(JSON.parse(audit.stdout)).toMatchObject({ type: expect.any(String) });
  });
});
