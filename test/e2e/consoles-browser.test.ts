import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  docsScreenshot,
  findChromium,
  openBrowser,
  screenshot,
  type TestBrowser,
} from '../helpers/browser.js';
import { basic } from '../helpers/instance.js';
import { runCli, runNode, type Server, startServer } from '../helpers/process.js';

// The consoles as people use them: real server processes (an IMS and two author instances that
// share their hmac key), Debian's Chromium clicking through the pages, and a Node program using
// the credentials the Developer Console gave.

const chromium = findChromium();
const root = mkdtempSync(join(tmpdir(), 'lk-consoles-'));
const PASSWORD = 'consoles-admin';
const ADMIN = basic('admin', PASSWORD);
const CLIENT = fileURLToPath(new URL('../../dist/client/index.js', import.meta.url));

const servers: Server[] = [];
const browsers: TestBrowser[] = [];
let ims: Server;
/** Instance A: keys in the repository (`/etc/key`), as an upgraded AEM install keeps them. */
let a: Server;
/** Instance B: its own store, the same keys as A (imported before its first start). */
let b: Server;

async function browser(): Promise<Page> {
  const opened = await openBrowser();
  browsers.push(opened);
  return opened.page;
}

beforeAll(async () => {
  if (!chromium) return;
  const env = { LATCHKEY_ADMIN_PASSWORD: PASSWORD };
  ims = await startServer(['serve', 'ims', '--port', '0', '--data', join(root, 'ims')], env, 'ims');
  servers.push(ims);
  const instanceEnv = {
    ...env,
    LATCHKEY_IMS_REVOCATION_POLL_MS: '1000',
    LATCHKEY_CRYPTO_KEY_STORAGE: 'repository',
  };
  a = await startServer(
    ['serve', 'author', '--port', '0', '--data', join(root, 'a'), '--ims', ims.url],
    instanceEnv,
  );
  servers.push(a);
  // B gets A's keys as a farm does: export on A, import before B's first start.
  const bundle = join(root, 'keys.bundle');
  const exported = await runCli(['keys', 'export', '--out', bundle, '--data', join(root, 'a')]);
  expect(exported.code, exported.stderr).toBe(0);
  const imported = await runCli(['keys', 'import', bundle, '--data', join(root, 'b')]);
  expect(imported.code, imported.stderr).toBe(0);
  b = await startServer(['serve', 'author', '--port', '0', '--data', join(root, 'b')], env);
  servers.push(b);
}, 90_000);

afterAll(async () => {
  await Promise.all(browsers.map((x) => x.close()));
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(root, { recursive: true, force: true });
});

/** Signs in on a console's sign-in page as a person does: types, then presses Enter. */
async function signIn(page: Page, url: string, user: string, password: string) {
  await page.goto(url);
  if (!new URL(page.url()).pathname.endsWith('/login')) {
    // Someone is signed in already: sign out first, with the button every page has.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login$/);
    await page.goto(url);
  }
  await page.waitForURL(/\/login\?/);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.endsWith('/login')),
    page.keyboard.press('Enter'),
  ]);
  await expect.poll(() => page.getByText(`Signed in as ${user}`).count()).toBe(1);
}

/** The page's title, as its one h1 says it. */
const heading = (page: Page) => page.getByRole('heading', { level: 1 }).textContent();

/** A Node program using the credentials: the latchkey client library exchanges them, then reads. */
const PROGRAM = `
import { readFileSync } from 'node:fs';
import { exchange } from ${JSON.stringify(CLIENT)};
const [credentialsFile, instance, given] = process.argv.slice(2);
let token = given;
if (!token) {
  try {
    token = (await exchange(JSON.parse(readFileSync(credentialsFile, 'utf8')))).access_token;
  } catch (err) {
    console.log(JSON.stringify({ exchange: err.code }));
    process.exit(1);
  }
}
const res = await fetch(instance + '/content/dam.json', { headers: { authorization: 'Bearer ' + token } });
console.log(JSON.stringify({ token, status: res.status, body: await res.json() }));
`;

async function useCredentials(file: string, token?: string) {
  const program = join(root, 'read-dam.mjs');
  writeFileSync(program, PROGRAM);
  const run = await runNode([program, file, a.url, ...(token ? [token] : [])]);
  const last = run.stdout.trim().split('\n').pop() ?? '';
  if (!last.startsWith('{')) throw new Error(`the program printed nothing: ${run.stderr}`);
  return JSON.parse(last) as {
    exchange?: string;
    token?: string;
    status?: number;
    body?: Record<string, unknown>;
  };
}

describe.skipIf(!chromium)('Developer Console in Chromium', () => {
  it('gives service credentials that a Node program uses to read /content/dam.json, until they are revoked', async () => {
    const page = await browser();
    await signIn(page, `${ims.url}/ims/console`, 'admin', PASSWORD);
    await page.getByRole('link', { name: 'Environment 1' }).click();
    await expect.poll(() => heading(page)).toBe('Environment p1-e1');
    await page.getByRole('button', { name: 'Get Service Credentials' }).click();
    await expect.poll(() => heading(page)).toBe('Service credentials');
    // Shown once: downloaded as credentials.json, exactly what the page shows.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download credentials.json' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('credentials.json');
    const file = join(root, 'credentials.json');
    await download.saveAs(file);
    const credentials = JSON.parse(readFileSync(file, 'utf8'));
    expect(credentials.integration.technicalAccount.clientId).toBe('cm-p1-e1-integration');
    expect(JSON.parse((await page.locator('#shown-json').textContent()) ?? '')).toEqual(
      credentials,
    );

    // A server elsewhere: exchanges them at the IMS and reads from the instance.
    const read = await useCredentials(file);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ 'jcr:primaryType': 'sling:Folder' });

    // The integration is listed with its certificate; revoking it asks first.
    await page.getByRole('link', { name: 'Back to p1-e1' }).click();
    const article = page.locator('article', { hasText: 'cm-p1-e1-integration' });
    await expect.poll(() => article.locator('.badge').textContent()).toBe('active');
    await docsScreenshot(page, 'developer-console');
    await page.getByRole('link', { name: 'Revoke cm-p1-e1-integration…' }).click();
    await expect.poll(() => heading(page)).toBe('Revoke cm-p1-e1-integration?');
    await page.getByRole('button', { name: 'Revoke the integration' }).click();
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toContain('Integration revoked');
    await expect.poll(() => article.locator('.badge').textContent()).toBe('revoked');

    // The next exchange fails at once; the token obtained before, within the poll interval.
    expect(await useCredentials(file)).toEqual({ exchange: 'invalid_client' });
    await expect
      .poll(async () => (await useCredentials(file, read.token)).status, { timeout: 8_000 })
      .toBe(401);
  });
});

describe.skipIf(!chromium)('System Console in Chromium', () => {
  const configure = async (page: Page, on: boolean) => {
    await page.getByRole('link', { name: 'Configuration' }).click();
    await page.getByLabel('Enable encapsulated token support').setChecked(on);
    await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Save' }).click(),
    ]);
    await page.waitForURL(/\?saved$/);
    expect(await page.getByRole('status').first().textContent()).toContain('Saved.');
    expect(await page.getByLabel('Enable encapsulated token support').isChecked()).toBe(on);
  };

  it('with encapsulated tokens ticked, a second instance sharing the hmac key accepts a sign-in on the first', async () => {
    const admin = await browser();
    await signIn(admin, `${a.url}/system/console`, 'admin', PASSWORD);
    // A user, created in the console of A; the same user on B (a farm keeps users alike).
    await admin.getByRole('link', { name: 'Users and groups' }).click();
    await admin.getByLabel('User id').fill('visitor');
    await admin.getByLabel('Password').fill('visitor-pw');
    await admin.getByRole('button', { name: 'Create user' }).click();
    await expect.poll(() => admin.getByRole('status').first().textContent()).toBe('User created.');
    const onB = await fetch(`${b.url}/libs/granite/security/post/authorizables`, {
      method: 'POST',
      headers: { authorization: ADMIN },
      body: new URLSearchParams({
        createUser: '',
        authorizableId: 'visitor',
        'rep:password': 'x-pw-1',
      }),
    });
    expect(onB.status).toBe(201);

    // Stateful tokens (the default): B does not know a sign-in on A.
    const visitor = await browser();
    await signIn(visitor, `${a.url}/system/console`, 'visitor', 'visitor-pw');
    await visitor.goto(`${b.url}/system/console/repository`);
    expect(new URL(visitor.url()).pathname).toBe('/system/console/login');

    // Ticked and saved on A: the next sign-in on A is accepted by B (the cookie goes to both,
    // as behind a load balancer without sticky sessions).
    await configure(admin, true);
    await docsScreenshot(admin, 'system-console');
    await signIn(visitor, `${a.url}/system/console`, 'visitor', 'visitor-pw');
    await visitor.goto(`${b.url}/system/console/repository`);
    expect(new URL(visitor.url()).pathname).toBe('/system/console/repository');
    expect(await visitor.getByText('Signed in as visitor').count()).toBe(1);

    // Unticked again: a new sign-in on A is A's alone.
    await configure(admin, false);
    await signIn(visitor, `${a.url}/system/console`, 'visitor', 'visitor-pw');
    await visitor.goto(`${b.url}/system/console/repository`);
    expect(new URL(visitor.url()).pathname).toBe('/system/console/login');

    // The Audit tab has it all, newest first: both changes, filtered to configuration changes.
    await admin.getByRole('link', { name: 'Audit' }).click();
    await admin.getByLabel('Type').selectOption('config.changed');
    await admin.getByRole('button', { name: 'Filter' }).click();
    await admin.waitForURL(/type=config.changed/);
    const rows = admin.getByRole('row').filter({ hasText: 'config.changed' });
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(0).textContent()).toContain('token.encapsulated=false');
    expect(await rows.nth(1).textContent()).toContain('token.encapsulated=true');
    await admin.getByLabel('Type').selectOption('login');
    await admin.getByLabel('User').fill('visitor');
    await admin.getByRole('button', { name: 'Filter' }).click();
    await admin.waitForURL(/type=login/);
    expect(await admin.getByRole('row').filter({ hasText: 'visitor' }).count()).toBe(3);
    // A visitor may not read it (B's refusal above ended the visitor's sign-in: sign in again).
    await signIn(visitor, `${a.url}/system/console/audit`, 'visitor', 'visitor-pw');
    expect(new URL(visitor.url()).pathname).toBe('/system/console/audit');
    expect(await visitor.getByRole('alert').textContent()).toMatch(/requires an administrator/);
  }, 90_000);

  it('offers the key properties of /etc/key for download to administrators only, and shows them to nobody else', async () => {
    const admin = await browser();
    await signIn(admin, `${a.url}/system/console`, 'admin', PASSWORD);
    // The fingerprints the Crypto tab shows, to compare the downloads with.
    await admin.getByRole('link', { name: 'Crypto' }).click();
    expect(await admin.getByText('Storage: JCR').count()).toBe(1);
    const fingerprints: Record<string, string> = {};
    for (const kind of ['master', 'hmac']) {
      const row = admin.getByRole('row', { name: new RegExp(`^${kind} primary`) });
      fingerprints[kind] = (await row.locator('td').nth(2).textContent()) ?? '';
    }

    // Through the tree, as in CRXDE: etc, then key.
    await admin.getByRole('link', { name: 'Repository' }).click();
    await admin.getByRole('link', { name: 'etc', exact: true }).click();
    await admin.getByRole('link', { name: 'key', exact: true }).click();
    expect(await heading(admin)).toBe('key');
    for (const kind of ['master', 'hmac']) {
      const row = admin.getByRole('row', { name: new RegExp(`^${kind} Binary`) });
      const [download] = await Promise.all([
        admin.waitForEvent('download'),
        row.getByRole('link', { name: `Download ${kind}` }).click(),
      ]);
      const file = join(root, `${kind}.key`);
      await download.saveAs(file);
      expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(
        fingerprints[kind],
      );
    }
    await screenshot(admin, 'system-console-etc-key');

    // A user whom an ACL lets read /etc/key sees neither the node nor a download: key material
    // is for administrators only, whatever an ACL grants.
    const grant = await fetch(`${a.url}/etc/key.modifyAce.json`, {
      method: 'POST',
      headers: { authorization: ADMIN },
      body: new URLSearchParams({ principalId: 'visitor', 'privilege@jcr:read': 'granted' }),
    });
    expect(grant.status).toBe(200);
    const visitor = await browser();
    await signIn(visitor, `${a.url}/system/console`, 'visitor', 'visitor-pw');
    const page = await visitor.goto(`${a.url}/system/console/repository?path=%2Fetc%2Fkey`);
    expect(page?.status()).toBe(404);
    expect(await visitor.getByRole('row', { name: /^master Binary/ }).count()).toBe(0);
    expect(await visitor.getByRole('link', { name: /^Download/ }).count()).toBe(0);
    const direct = await visitor.request.get(
      `${a.url}/system/console/repository/download?path=%2Fetc%2Fkey&property=master`,
    );
    expect(direct.status()).toBe(404);
    expect(await direct.text()).not.toContain(readFileSync(join(root, 'master.key'), 'latin1'));
  });
});

describe("the README's screenshots", () => {
  it('are the two this file takes (npm run screenshots), in docs/, small', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const shown = [...readme.matchAll(/!\[[^\]]+\]\((docs\/[^)]+\.png)\)/g)].map((m) => m[1]);
    expect(shown).toEqual(['docs/developer-console.png', 'docs/system-console.png']);
    const source = readFileSync(fileURLToPath(import.meta.url), 'utf8');
    for (const file of shown) {
      const name = /docs\/(.+)\.png/.exec(file!)![1]!;
      expect(source).toMatch(new RegExp(`docsScreenshot\\(\\w+, '${name}'\\)`));
      const png = readFileSync(new URL(`../../${file}`, import.meta.url));
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(png.length).toBeLessThan(100_000);
    }
  });
});
