import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyVersion, makeKeySet } from '../../src/crypto/keyring.js';
import { protect } from '../../src/crypto/protect.js';
import { unprotect } from '../../src/crypto/unprotect.js';
import { stringProperty, toStored } from '../../src/repository/properties.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { ConsoleClient, csrfOf, textOf } from '../helpers/console.js';
import {
  ADMIN,
  ADMIN_PASSWORD,
  form,
  type TestInstance,
  testInstance,
} from '../helpers/instance.js';

// The System Console in process: what each page shows and what each form does, through the same
// forms a browser submits (the browser tests in test/e2e/consoles-*.test.ts drive the real thing).

const PID = 'com.day.crx.security.token.impl.impl.TokenAuthenticationHandler';
const SIGN_IN = '/system/console/login';
let inst: TestInstance;

const asAdmin = (method: 'GET' | 'POST', url: string, fields: [string, string][] = []) =>
  inst.app.inject({
    method,
    url,
    ...(method === 'POST' ? form(fields) : {}),
    headers: { ...(method === 'POST' ? form([]).headers : {}), authorization: ADMIN },
  });

async function admin(): Promise<ConsoleClient> {
  const c = new ConsoleClient(inst.app, 'login-token');
  await c.signIn(SIGN_IN, 'admin', ADMIN_PASSWORD);
  return c;
}

beforeAll(async () => {
  inst = await testInstance({ role: 'author' });
  for (const id of ['alice', 'reader'])
    await asAdmin('POST', '/libs/granite/security/post/authorizables', [
      ['createUser', ''],
      ['authorizableId', id],
      ['rep:password', `${id}-password`],
    ]);
});
afterAll(() => inst.close());

describe('System Console: signing in', () => {
  it('sends a visitor to the sign-in page, and back to the page asked for afterwards', async () => {
    const c = new ConsoleClient(inst.app, 'login-token');
    const first = await c.get('/system/console/crypto');
    expect(first.statusCode).toBe(303);
    expect(first.headers.location).toBe(`${SIGN_IN}?resource=%2Fsystem%2Fconsole%2Fcrypto`);
    const page = await c.get(String(first.headers.location));
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('name="resource" value="/system/console/crypto"');
    const res = await c.post(SIGN_IN, [
      ['j_username', 'admin'],
      ['j_password', ADMIN_PASSWORD],
      ['resource', '/system/console/crypto'],
    ]);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/system/console/crypto');
    expect(String(res.headers['set-cookie'])).toMatch(/^login-token=.+; Path=\/; HttpOnly/);
    expect((await c.get('/system/console/crypto')).statusCode).toBe(200);
  });

  it('says what was wrong next to the field, and sets no cookie', async () => {
    const c = new ConsoleClient(inst.app, 'login-token');
    const wrong = await c.post(SIGN_IN, [
      ['j_username', 'admin'],
      ['j_password', 'not-the-password'],
    ]);
    expect(wrong.statusCode).toBe(403);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect(wrong.body).toMatch(
      /<p class="error" id="password-error">The user name or password is wrong.<\/p>/,
    );
    expect(wrong.body).toMatch(
      /id="password"[^>]*aria-describedby="password-error"[^>]*aria-invalid="true"/,
    );
    expect(wrong.body).toContain('value="admin"'); // the user name stays filled in
    const empty = await c.post(SIGN_IN, [['j_username', '']]);
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toContain('Enter your user name.');
    expect(empty.body).toContain('Enter your password.');
  });

  it('answers a mistyped address under the console with a 404 page, not JSON', async () => {
    const visitor = new ConsoleClient(inst.app, 'login-token');
    const first = await visitor.get('/system/console/no-such-tab');
    expect(first.statusCode).toBe(404);
    expect(first.headers['content-type']).toMatch(/^text\/html/);
    const page = await (await admin()).get('/system/console/no-such-tab');
    expect(page.statusCode).toBe(404);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(textOf(page.body, 'alert')).toEqual([
      'There is no page at this address in the System Console.',
    ]);
    // The APIs under the same prefix still answer JSON.
    const api = await asAdmin('GET', `/system/console/configMgr/${PID}.json`);
    expect(api.headers['content-type']).toMatch(/^application\/json/);
  });

  it('never redirects off the console after signing in (open redirect)', async () => {
    const c = new ConsoleClient(inst.app, 'login-token');
    for (const resource of ['https://evil.example/', '//evil.example/x', '/content.json']) {
      const res = await c.post(SIGN_IN, [
        ['j_username', 'admin'],
        ['j_password', ADMIN_PASSWORD],
        ['resource', resource],
      ]);
      expect(res.headers.location, resource).toBe('/system/console');
    }
  });

  it('shows a user who is not an administrator the repository browser only', async () => {
    const c = new ConsoleClient(inst.app, 'login-token');
    await c.signIn(SIGN_IN, 'alice', 'alice-password');
    const start = await c.get('/system/console');
    expect(start.headers.location).toBe('/system/console/repository');
    const repo = await c.get('/system/console/repository');
    expect(repo.body).toContain('>Repository</a>');
    expect(repo.body).not.toContain('>Crypto</a>');
    for (const url of [
      '/system/console/configMgr',
      '/system/console/crypto',
      '/system/console/health',
      '/system/console/users',
      '/system/console/audit',
    ]) {
      const res = await c.get(url);
      expect(res.statusCode, url).toBe(403);
      expect(textOf(res.body, 'alert')[0], url).toMatch(/ requires an administrator\.$/);
    }
    expect(textOf((await c.get('/system/console/health')).body, 'alert')).toEqual([
      'The health page requires an administrator.',
    ]);
    const post = await c.post('/system/console/crypto', [
      ['action', 'rotate'],
      ['kind', 'hmac'],
    ]);
    expect(post.statusCode).toBe(403);
  });
});

describe('System Console: CSRF on every form', () => {
  it('refuses a form without the page’s token, or from another origin, and changes nothing', async () => {
    const c = await admin();
    const before = (await asAdmin('GET', `/system/console/configMgr/${PID}.json`)).json();
    const fields: [string, string][] = [
      ['token.encapsulated', 'true'],
      ['token.expiration', '600000'],
      ['token.samesite.cookie.attr', 'Strict'],
    ];
    const noToken = await c.post('/system/console/configMgr', fields, { csrf: false });
    expect(noToken.statusCode).toBe(403);
    expect(textOf(noToken.body, 'alert')[0]).toMatch(/^This form was open too long/);
    const stale = await c.post(
      '/system/console/configMgr',
      [[':cq_csrf_token', 'x.y'], ...fields],
      {
        csrf: false,
      },
    );
    expect(stale.statusCode).toBe(403);
    const foreign = await c.post('/system/console/configMgr', fields, {
      headers: { origin: 'http://evil.example' },
    });
    expect(foreign.statusCode).toBe(403);
    expect(textOf(foreign.body, 'alert')[0]).toMatch(/another site/);
    // A token made for another user is no good either.
    const alice = new ConsoleClient(inst.app, 'login-token');
    await alice.signIn(SIGN_IN, 'alice', 'alice-password');
    const swapped = await c.post(
      '/system/console/configMgr',
      [[':cq_csrf_token', alice.csrf], ...fields],
      {
        csrf: false,
      },
    );
    expect(swapped.statusCode).toBe(403);
    expect((await asAdmin('GET', `/system/console/configMgr/${PID}.json`)).json()).toEqual(before);
  });

  it('pages answer with a referrer policy that lets the browser name their origin on a post', async () => {
    // With no-referrer, Chromium sends `Origin: null` on a form post, which the filter refuses.
    const res = await (await admin()).get('/system/console/configMgr');
    expect(res.headers['referrer-policy']).toBe('same-origin');
    expect(res.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(res.headers['content-security-policy']).not.toMatch(
      /unsafe-inline'[^;]*script|script-src[^;]*unsafe-inline/,
    );
  });
});

describe('System Console: Configuration', () => {
  it('ticks "Enable encapsulated token support": the next sign-in gets an encapsulated token', async () => {
    const c = await admin();
    const page = await c.get('/system/console/configMgr');
    expect(page.body).toContain('Enable encapsulated token support');
    const saved = await c.post('/system/console/configMgr', [
      ['token.encapsulated', 'true'],
      ['token.expiration', '3600000'],
      ['token.samesite.cookie.attr', 'Strict'],
    ]);
    expect(saved.statusCode).toBe(303);
    const after = await c.get(String(saved.headers.location));
    expect(textOf(after.body, 'notice')[0]).toMatch(/^Saved\./);
    expect(after.body).toMatch(/id="encapsulated"[^>]*checked/);
    const json = (await asAdmin('GET', `/system/console/configMgr/${PID}.json`)).json();
    expect(json.properties['token.encapsulated'].value).toBe(true);
    expect(json.properties['token.expiration'].value).toBe(3600000);
    const login = await inst.app.inject({
      method: 'POST',
      url: '/j_security_check',
      ...form([
        ['j_username', 'alice'],
        ['j_password', 'alice-password'],
      ]),
    });
    expect(String(login.headers['set-cookie'])).toMatch(/^login-token=e1\./);
    expect(String(login.headers['set-cookie'])).toMatch(/SameSite=Strict/);
    // Unticking (the box is then not sent) turns it off again.
    await c.post('/system/console/configMgr', [
      ['token.expiration', '43200000'],
      ['token.samesite.cookie.attr', 'Lax'],
    ]);
    expect(
      (await asAdmin('GET', `/system/console/configMgr/${PID}.json`)).json().properties[
        'token.encapsulated'
      ].value,
    ).toBe(false);
  });

  it('shows each mistake under its field and saves nothing', async () => {
    const c = await admin();
    const before = (await asAdmin('GET', `/system/console/configMgr/${PID}.json`)).json();
    const res = await c.post('/system/console/configMgr', [
      ['token.encapsulated', 'true'],
      ['token.expiration', 'soon'],
      ['token.samesite.cookie.attr', 'Sometimes'],
    ]);
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(
      /<p class="error" id="expiration-error">The token expiration must be a whole number of milliseconds, at least 60000.<\/p>/,
    );
    expect(res.body).toMatch(
      /id="samesite-error">The SameSite attribute must be Lax, Strict or None.</,
    );
    expect(res.body).toContain('value="soon"');
    expect((await asAdmin('GET', `/system/console/configMgr/${PID}.json`)).json()).toEqual(before);
  });
});

describe('System Console: Crypto', () => {
  it('shows storage, ids and fingerprints, never key material', async () => {
    const c = await admin();
    const res = await c.get('/system/console/crypto');
    const { master, hmac } = inst.keys.keyring;
    expect(res.body).toContain(master.primary.id);
    expect(res.body).toContain(hmac.primary.fingerprint);
    expect(res.body).toContain('Bundle');
    for (const k of [master.primary, hmac.primary]) {
      expect(res.body).not.toContain(k.material.toString('base64'));
      expect(res.body).not.toContain(k.material.toString('hex'));
    }
  });

  it('protects a value with the primary master key', async () => {
    const c = await admin();
    await c.get('/system/console/crypto');
    const res = await c.post('/system/console/crypto', [
      ['action', 'protect'],
      ['datum', 'p8e-secret'],
    ]);
    expect(res.statusCode).toBe(200);
    const value = /<pre class="secret" id="protected-value"[^>]*>([^<]+)<\/pre>/.exec(
      res.body,
    )?.[1];
    expect(value).toMatch(/^\{lk1\./);
    expect(unprotect(inst.keys.keyring, value!)).toBe('p8e-secret');
    const empty = await c.post('/system/console/crypto', [
      ['action', 'protect'],
      ['datum', ''],
    ]);
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toMatch(/id="datum-error">Enter the value to protect.</);
  });

  it('rotates, exports, imports and reloads the keys of the running instance', async () => {
    const c = await admin();
    await c.get('/system/console/crypto');
    const before = inst.keys.keyring.hmac.primary.id;
    const rotated = await c.post('/system/console/crypto', [
      ['action', 'rotate'],
      ['kind', 'hmac'],
    ]);
    expect(rotated.statusCode).toBe(200);
    const after = inst.keys.keyring.hmac.primary.id;
    expect(after).not.toBe(before);
    expect(textOf(rotated.body, 'notice')[0]).toContain(`New primary hmac key ${after}`);

    const exported = await c.post('/system/console/crypto', [
      ['action', 'export'],
      ['passphrase', 'correct horse'],
    ]);
    expect(exported.statusCode).toBe(200);
    expect(exported.headers['content-disposition']).toMatch(
      /^attachment; filename="latchkey-keys-\d{8}T\d{6}\.bundle"$/,
    );
    const wrong = await c.post(
      '/system/console/crypto',
      [
        ['action', 'import'],
        ['passphrase', 'wrong horse'],
      ],
      { files: [['bundle', 'keys.bundle', exported.rawPayload]] },
    );
    expect(wrong.statusCode).toBeGreaterThanOrEqual(400);
    expect(wrong.body).toMatch(/id="bundle-error">/);
    // A sealed bundle without its passphrase: the console's words, not the command's flags.
    const noPassphrase = await c.post('/system/console/crypto', [['action', 'import']], {
      files: [['bundle', 'keys.bundle', exported.rawPayload]],
    });
    expect(noPassphrase.statusCode).toBe(400);
    expect(textOf(noPassphrase.body, 'error')).toEqual([
      'This bundle is sealed: enter its passphrase.',
    ]);
    const imported = await c.post(
      '/system/console/crypto',
      [
        ['action', 'import'],
        ['passphrase', 'correct horse'],
      ],
      { files: [['bundle', 'keys.bundle', exported.rawPayload]] },
    );
    expect(imported.statusCode, imported.body).toBe(200);
    expect(textOf(imported.body, 'notice')[0]).toContain(`hmac ${after}`);
    const refreshed = await c.post('/system/console/crypto', [['action', 'refresh']]);
    expect(textOf(refreshed.body, 'notice')[0]).toMatch(/^Keys reloaded/);
  });
});

describe('System Console: Crypto in the data folder of latchkey start', () => {
  it('keeps key files that the IMS shares out of the repository, and says why before the click', async () => {
    // latchkey start keeps the IMS's store beside the author's, on the same key files.
    const ims = new SqliteStore(join(inst.data, 'ims.sqlite'));
    try {
      const c = await admin();
      const page = await c.get('/system/console/crypto');
      expect(page.body).not.toContain('Move the keys to the repository');
      expect(page.body).toContain(
        'These key files serve an author store (author.sqlite) and an IMS store (ims.sqlite)',
      );
      const refused = await c.post('/system/console/crypto', [
        ['action', 'migrate'],
        ['to', 'repository'],
      ]);
      expect(refused.statusCode).toBe(409);
      expect(textOf(refused.body, 'error')[0]).toMatch(
        /^The key files in .* serve an author store/,
      );
      expect(refused.body).toContain('Storage: <strong>Bundle</strong>');
    } finally {
      await ims.close();
      rmSync(join(inst.data, 'ims.sqlite'), { force: true });
      for (const f of ['ims.sqlite-wal', 'ims.sqlite-shm'])
        rmSync(join(inst.data, f), { force: true });
    }
  });
});

describe('System Console: Health', () => {
  it('lists every check with its status', async () => {
    const res = await (await admin()).get('/system/console/health');
    for (const name of ['store', 'crypto'])
      expect(res.body).toContain(`<th scope="row">${name}</th>`);
    expect(res.body).toContain('badge green');
  });

  it('says what to do next to a failing check', async () => {
    const created = await asAdmin('POST', '/system/console/configs/ims/health-fix', [
      ['imsEndpoint', '127.0.0.1:1'], // nothing listens: no request leaves the machine
      ['org', '1234ABCD@AdobeOrg'],
      ['technicalAccountId', 'abcd@techacct.adobe.com'],
      ['clientId', 'cm-p1-e1-integration'],
      ['clientSecret', 'p8e-secret'],
      [
        'privateKey',
        '-----BEGIN RSA PRIVATE KEY-----\r\nMIIE…\r\n-----END RSA PRIVATE KEY-----\r\n',
      ],
      ['metascopes', 'ent_aem_cloud_api'],
    ]);
    expect(created.statusCode).toBe(201);
    // The secret sealed with a master key this instance does not have (restored from elsewhere).
    const foreign = protect(
      {
        master: makeKeySet(generateKeyVersion('master')),
        hmac: makeKeySet(generateKeyVersion('hmac')),
        aemMaster: undefined,
      },
      'x',
    );
    const node = (await inst.store.getNode('/conf/latchkey/ims/health-fix'))!;
    await inst.store.putNode({
      ...node,
      properties: { ...node.properties, clientSecret: toStored(stringProperty(foreign)) },
    });
    try {
      const page = await (await admin()).get('/system/console/health');
      const row = /<th scope="row">protected-configurations<\/th>([\s\S]*?)<\/tr>/.exec(
        page.body,
      )![1]!;
      expect(row).toContain('badge red');
      expect(row).toContain('import the master key that sealed it');
      expect(row).not.toContain('README');
      const json = (await inst.app.inject({ url: '/system/health' })).json();
      expect(
        json.checks.find((c: { name: string }) => c.name === 'protected-configurations').fix,
      ).toContain('import the master key that sealed it');
      expect(json.checks.find((c: { name: string }) => c.name === 'store').fix).toBeUndefined();
    } finally {
      // Gone again, with the IMS configuration the check would try (no IMS answers for it).
      await inst.store.deleteTree('/conf/latchkey/ims/health-fix');
    }
    const after = (await inst.app.inject({ url: '/system/health' })).json();
    expect(
      after.checks.find((c: { name: string }) => c.name === 'protected-configurations').status,
    ).toBe('green');
  });
});

describe('System Console: Users and groups', () => {
  it('creates a user and a group, searches, joins, resets the password and disables', async () => {
    const c = await admin();
    await c.get('/system/console/users');
    const created = await c.post('/system/console/users', [
      ['action', 'createUser'],
      ['authorizableId', 'carol'],
      ['password', 'carol-password'],
    ]);
    expect(created.statusCode).toBe(303);
    expect(created.headers.location).toBe('/system/console/users/carol?done=createUser');
    await c.post('/system/console/users', [
      ['action', 'createGroup'],
      ['authorizableId', 'editors'],
    ]);
    const found = await c.get('/system/console/users?q=CAR');
    expect(found.body).toContain('>carol</a>');
    expect(found.body).not.toContain('>alice</a>');

    await c.get('/system/console/users/carol');
    const joined = await c.post('/system/console/users/carol', [
      ['action', 'addMember'],
      ['other', 'editors'],
    ]);
    expect(joined.statusCode).toBe(303);
    expect((await c.get('/system/console/users/editors')).body).toContain('>carol</a>');

    // Carol signs in; a password reset ends her session.
    const carol = new ConsoleClient(inst.app, 'login-token');
    await carol.signIn(SIGN_IN, 'carol', 'carol-password');
    expect((await carol.get('/system/console/repository')).statusCode).toBe(200);
    await c.get('/system/console/users/carol');
    await c.post('/system/console/users/carol', [
      ['action', 'password'],
      ['password', 'new-carol-password'],
    ]);
    expect((await carol.get('/system/console/repository')).statusCode).toBe(303);
    await carol.signIn(SIGN_IN, 'carol', 'new-carol-password');

    await c.post('/system/console/users/carol', [
      ['action', 'disable'],
      ['reason', 'left'],
    ]);
    expect((await carol.get('/system/console/repository')).statusCode).toBe(303);
    const refused = await carol.post(SIGN_IN, [
      ['j_username', 'carol'],
      ['j_password', 'new-carol-password'],
    ]);
    expect(refused.statusCode).toBe(403);
    expect((await c.get('/system/console/users/carol')).body).toContain('badge red');
  });

  it('says why a change was refused, next to its form', async () => {
    const c = await admin();
    await c.get('/system/console/users');
    const taken = await c.post('/system/console/users', [
      ['action', 'createUser'],
      ['authorizableId', 'alice'],
      ['password', 'x'],
    ]);
    expect(taken.statusCode).toBe(409);
    expect(taken.body).toContain(
      'id="user-id-error">A user or group with id alice exists already.<',
    );
    // A missing password is said under the password, in the console's words.
    const noPassword = await c.post('/system/console/users', [
      ['action', 'createUser'],
      ['authorizableId', 'paula'],
      ['password', ''],
    ]);
    expect(noPassword.statusCode).toBe(400);
    expect(textOf(noPassword.body, 'error')).toEqual(['Enter a password.']);
    expect(noPassword.body).toMatch(/id="user-password"[^>]*aria-invalid="true"/);
    expect(noPassword.body).toContain('value="paula"');
    const bad = await c.post('/system/console/users', [
      ['action', 'createUser'],
      ['authorizableId', 'no spaces'],
      ['password', 'x'],
    ]);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/id="user-id-error">The id must be/);
    // Only the field at fault is marked (the page's alert once leaked into every other field).
    expect(bad.body.match(/aria-invalid="true"/g)).toHaveLength(1);
    expect(bad.body.match(/class="error"/g)).toHaveLength(1);
    expect(textOf(bad.body, 'alert')).toEqual([
      'Nothing was created: see the message in the form.',
    ]);
    const adminPage = await c.get('/system/console/users/admin');
    // admin is not offered for disabling; a post anyway is refused in words.
    expect(adminPage.body).not.toContain('Disable user');
    expect(adminPage.body).toContain('admin cannot be disabled');
    const adminDisabled = await c.post('/system/console/users/admin', [
      ['action', 'disable'],
      ['reason', 'no'],
    ]);
    expect(adminDisabled.statusCode).toBe(403);
    expect(adminDisabled.body).toMatch(/id="disable-error">Admin cannot be disabled.</);
  });
});

describe('System Console: repository browser', () => {
  it('navigates, edits with types, and deletes after a confirmation', async () => {
    const c = await admin();
    await c.get('/system/console/repository?path=/content');
    const added = await c.post('/system/console/repository?path=/content', [
      ['action', 'addNode'],
      ['name', 'site'],
      ['primaryType', 'sling:Folder'],
    ]);
    expect(added.headers.location).toBe(
      '/system/console/repository?path=%2Fcontent%2Fsite&done=addNode',
    );
    const set = await c.post('/system/console/repository?path=/content/site', [
      ['action', 'setProperty'],
      ['name', 'count'],
      ['type', 'Long'],
      ['value', '42'],
    ]);
    expect(set.statusCode).toBe(303);
    const json = (await asAdmin('GET', '/content/site.json')).json();
    expect(json).toMatchObject({ 'jcr:primaryType': 'sling:Folder', count: 42 });
    const page = await c.get('/system/console/repository?path=/content/site');
    expect(page.body).toMatch(/<th scope="row" class="mono">count<\/th>\s*<td>Long<\/td>/);
    const bad = await c.post('/system/console/repository?path=/content/site', [
      ['action', 'setProperty'],
      ['name', 'count'],
      ['type', 'Long'],
      ['value', 'many'],
    ]);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/id="prop-name-error">Property count: not a Long.</);
    expect(bad.body.match(/aria-invalid="true"/g)).toHaveLength(1);
    // What a person types that a Sling POST would take another way is said, not stored.
    for (const [type, value, said] of [
      ['Boolean', 'maybe', 'A Boolean is true or false.'],
      ['Binary', '', 'Choose a file for a Binary property (or type its text as the value).'],
    ]) {
      const refused = await c.post('/system/console/repository?path=/content/site', [
        ['action', 'setProperty'],
        ['name', 'flag'],
        ['type', type!],
        ['value', value!],
      ]);
      expect(refused.statusCode).toBe(400);
      expect(textOf(refused.body, 'error')).toEqual([said]);
    }
    const yes = await c.post('/system/console/repository?path=/content/site', [
      ['action', 'setProperty'],
      ['name', 'flag'],
      ['type', 'Boolean'],
      ['value', 'TRUE'],
    ]);
    expect(yes.statusCode).toBe(303);
    expect((await asAdmin('GET', '/content/site.json')).json().flag).toBe(true);
    for (const [name, said] of [
      ['', 'Enter the new node&#39;s name.'],
      ['n'.repeat(300), 'A node name has at most 255 characters, this one 300.'],
    ]) {
      const refused = await c.post('/system/console/repository?path=/content/site', [
        ['action', 'addNode'],
        ['name', name!],
      ]);
      expect(refused.statusCode).toBe(400);
      expect(textOf(refused.body, 'error')).toEqual([said]);
    }
    // Names stay spelled as they are: no "Rep:" or "Jcr:primaryType" made up by capitalizing.
    for (const [name, value, said] of [
      ['rep:secret', 'x', 'Properties whose names start with rep: are protected.'],
      ['jcr:primaryType', 'rep:User', 'jcr:primaryType rep:User is a system type'],
    ]) {
      const refused = await c.post('/system/console/repository?path=/content/site', [
        ['action', 'setProperty'],
        ['name', name!],
        ['type', 'String'],
        ['value', value!],
      ]);
      expect(refused.statusCode).toBe(400);
      expect(textOf(refused.body, 'error')[0]).toContain(said);
    }
    await c.post('/system/console/repository?path=/content/site', [
      ['action', 'deleteProperty'],
      ['name', 'count'],
    ]);
    expect((await asAdmin('GET', '/content/site.json')).json().count).toBeUndefined();
    const confirm = await c.get('/system/console/repository/delete?path=/content/site');
    expect(confirm.body).toContain('This cannot be undone');
    const deleted = await c.post('/system/console/repository?path=/content/site', [
      ['action', 'deleteNode'],
    ]);
    expect(deleted.headers.location).toBe(
      '/system/console/repository?path=%2Fcontent&done=deleteNode',
    );
    expect((await asAdmin('GET', '/content/site.json')).statusCode).toBe(404);
  });

  it('escapes what it shows: a node and a value made of markup stay text', async () => {
    await asAdmin('POST', '/content/x', [['title', '<script>alert(1)</script>']]);
    const page = await (await admin()).get('/system/console/repository?path=/content/x');
    expect(page.body).not.toContain('<script>alert(1)');
    expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('lets a user change only what her permissions allow, and hides what she may not read', async () => {
    await asAdmin('POST', '/content/shared', [['title', 'Shared']]);
    await asAdmin('POST', '/content/secret', [['title', 'Secret']]);
    await asAdmin('POST', '/content.modifyAce.json', [
      ['principalId', 'reader'],
      ['privilege@jcr:read', 'granted'],
    ]);
    await asAdmin('POST', '/content/secret.modifyAce.json', [
      ['principalId', 'reader'],
      ['privilege@jcr:read', 'denied'],
    ]);
    const c = new ConsoleClient(inst.app, 'login-token');
    await c.signIn(SIGN_IN, 'reader', 'reader-password');
    const content = await c.get('/system/console/repository?path=/content');
    expect(content.body).toContain('>shared</a>');
    expect(content.body).not.toContain('>secret</a>');
    expect(content.body).toContain('You may not change this node.');
    expect((await c.get('/system/console/repository?path=/content/secret')).statusCode).toBe(404);
    const refused = await c.post('/system/console/repository?path=/content/shared', [
      ['action', 'setProperty'],
      ['name', 'title'],
      ['value', 'Mine'],
    ]);
    expect(refused.statusCode).toBe(403);
    expect((await asAdmin('GET', '/content/shared.json')).json().title).toBe('Shared');
  });

  it('offers /etc/key’s key material for download to administrators only, never in a page', async () => {
    const c = await admin();
    await c.get('/system/console/crypto');
    const moved = await c.post('/system/console/crypto', [
      ['action', 'migrate'],
      ['to', 'repository'],
    ]);
    expect(textOf(moved.body, 'notice')[0]).toMatch(/storage is now JCR/);
    const page = await c.get('/system/console/repository?path=/etc/key');
    const master = inst.keys.keyring.master.primary.material;
    expect(page.body).toContain('>master</th>');
    expect(page.body).not.toContain(master.toString('base64'));
    expect(page.body).toContain(
      '/system/console/repository/download?path=%2Fetc%2Fkey&amp;property=master',
    );
    const download = await c.get(
      '/system/console/repository/download?path=%2Fetc%2Fkey&property=master',
    );
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-disposition']).toBe('attachment; filename="key-master"');
    expect(download.rawPayload.equals(master)).toBe(true);

    // A user an ACL lets read /etc sees neither the key node nor a key: /etc/key is for
    // administrators only, whatever an ACL grants.
    await asAdmin('POST', '/etc.modifyAce.json', [
      ['principalId', 'reader'],
      ['privilege@jcr:read', 'granted'],
    ]);
    const reader = new ConsoleClient(inst.app, 'login-token');
    await reader.signIn(SIGN_IN, 'reader', 'reader-password');
    const etc = await reader.get('/system/console/repository?path=/etc');
    expect(etc.statusCode).toBe(200);
    expect(etc.body).not.toContain('path=%2Fetc%2Fkey');
    const seen = await reader.get('/system/console/repository?path=/etc/key');
    expect(seen.statusCode).toBe(404);
    expect(seen.body).not.toContain('repository/download');
    const refused = await reader.get(
      '/system/console/repository/download?path=%2Fetc%2Fkey&property=master',
    );
    expect(refused.statusCode).toBe(404);
    expect(refused.rawPayload.includes(master)).toBe(false);
    // Back to key files, for the tests after this one.
    await c.get('/system/console/crypto');
    await c.post('/system/console/crypto', [
      ['action', 'migrate'],
      ['to', 'file'],
    ]);
  });
});

it('the sign-in form posts without a CSRF token, the pages have one', async () => {
  const c = new ConsoleClient(inst.app, 'login-token');
  const page = await c.get(SIGN_IN);
  expect(page.body).not.toContain(':cq_csrf_token');
  await c.signIn(SIGN_IN, 'admin', ADMIN_PASSWORD);
  expect(csrfOf((await c.get('/system/console/health')).body)).toMatch(/\S+/);
});

/** The rows of the Audit tab's table: time, type, outcome, actor, target. */
function auditRows(html: string) {
  return [
    ...html.matchAll(
      /<tr>\s*<td class="mono">([^<]+)<\/td>\s*<td>([^ <]+) <span class="badge \w+">(\w+)<\/span><\/td>\s*<td>([^<]*)<\/td>\s*<td class="mono">([^<]*)<\/td>/g,
    ),
  ].map((m) => ({ time: m[1]!, type: m[2]!, outcome: m[3]!, actor: m[4]!, target: m[5]! }));
}

describe('System Console: audit log', () => {
  it('lists the audit log newest first, filtered by type, user and time, 50 a page', async () => {
    const c = await admin();
    // 60 groups, then a failed sign-in: 61 events more, in this order.
    for (let i = 0; i < 60; i++)
      await asAdmin('POST', '/libs/granite/security/post/authorizables', [
        ['createGroup', ''],
        ['authorizableId', `audit-group-${i}`],
      ]);
    await inst.app.inject({
      method: 'POST',
      url: SIGN_IN,
      ...form([
        ['j_username', 'alice'],
        ['j_password', 'wrong'],
      ]),
    });

    const first = await c.get('/system/console/audit');
    expect(first.statusCode).toBe(200);
    expect(first.body).toContain('aria-current="page">Audit</a>');
    const rows = auditRows(first.body);
    expect(rows).toHaveLength(50);
    expect(rows[0]).toMatchObject({ type: 'login', outcome: 'failure', actor: 'alice' });
    expect(rows[1]).toMatchObject({
      type: 'group.created',
      actor: 'admin',
      target: 'audit-group-59',
    });
    expect(rows.map((r) => r.time)).toEqual([...rows.map((r) => r.time)].sort().reverse());

    // Older events: the next page goes on where the first ended, with nothing twice.
    const older = /href="(\/system\/console\/audit\?before=[^"]+)">Older events/.exec(
      first.body,
    )?.[1];
    expect(older).toBeDefined();
    const second = await c.get(older!.replace(/&amp;/g, '&'));
    const next = auditRows(second.body);
    expect(next[0]).toMatchObject({ target: 'audit-group-10' });
    expect(second.body).toContain('>Newest events</a>');

    // Filters, as latchkey audit has them: type (a group of types too), user, time.
    const groups = auditRows((await c.get('/system/console/audit?type=group')).body);
    expect(groups).toHaveLength(50);
    expect(new Set(groups.map((r) => r.type))).toEqual(new Set(['group.created']));
    const alice = auditRows((await c.get('/system/console/audit?user=ALICE')).body);
    expect(alice[0]).toMatchObject({ type: 'login', outcome: 'failure' });
    expect(alice.at(-1)).toMatchObject({ type: 'user.created', target: 'alice' });
    expect(alice.every((r) => r.actor === 'alice' || r.target === 'alice')).toBe(true);
    const filteredPage = await c.get('/system/console/audit?type=group.created&user=admin');
    const link = /href="([^"]+)">Older events/.exec(filteredPage.body)![1]!;
    expect(link).toMatch(
      /^\/system\/console\/audit\?user=admin&amp;type=group.created&amp;before=\d+\.\d+$/,
    );
    const since = `${rows[0]!.time.replace(' ', 'T')}Z`;
    const recent = auditRows((await c.get(`/system/console/audit?since=${since}`)).body);
    expect(recent.map((r) => r.type)).toContain('login');
    expect(recent.every((r) => r.time >= rows[0]!.time)).toBe(true);
    const none = await c.get('/system/console/audit?until=2000-01-01');
    expect(auditRows(none.body)).toEqual([]);
    expect(none.body).toContain('No event matches the filter.');
  });

  it('says which filter it cannot read, next to it', async () => {
    const c = await admin();
    const bad = await c.get('/system/console/audit?since=yesterday');
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/id="audit-since-error">Since takes a date or time/);
    expect(bad.body.match(/aria-invalid="true"/g)).toHaveLength(1);
    expect(bad.body).not.toContain('No event'); // no table: nothing was read
    const type = await c.get('/system/console/audit?type=nothing');
    expect(type.statusCode).toBe(400);
    expect(type.body).toMatch(/id="audit-type-error">Type: no event type &quot;nothing&quot;/);
    const swapped = await c.get('/system/console/audit?since=2026-05-02&until=2026-05-01');
    expect(swapped.statusCode).toBe(400);
    expect(swapped.body).toContain(
      'id="audit-until-error">Until is before Since, so no event can match: swap them.<',
    );
    const damaged = await c.get('/system/console/audit?before=x');
    expect(damaged.statusCode).toBe(400);
    expect(textOf(damaged.body, 'alert')[0]).toBe('The page link is damaged: start again.');
  });
});
