import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { consolePagesOf } from '../../src/http/console/register.js';
import { addDeveloper } from '../../src/ims/developers.js';
import {
  findChromium,
  fitsWidth,
  openBrowser,
  screenshot,
  seriousViolations,
  type TestBrowser,
} from '../helpers/browser.js';
import { IMS_ADMIN_PASSWORD, testIms } from '../helpers/ims.js';
import { ADMIN, ADMIN_PASSWORD, form, testInstance } from '../helpers/instance.js';

// Point 3 of the consoles, checked in Chromium on every page of both consoles, signed in (as an
// administrator and as a plain user) and not: axe-core finds no serious or critical violation,
// the page fits a 360 px wide window, and the browser asks no other origin for anything. Then
// keyboard use, and a form posted from another origin's page.

const chromium = findChromium();
let instance: Awaited<ReturnType<typeof testInstance>>;
let ims: Awaited<ReturnType<typeof testIms>>;
const browsers: TestBrowser[] = [];

beforeAll(async () => {
  if (!chromium) return;
  instance = await testInstance({}, { listen: true });
  ims = await testIms();
  const body = form([
    ['createUser', ''],
    ['authorizableId', 'alice'],
    ['rep:password', 'alice-password'],
  ]);
  const created = await instance.app.inject({
    method: 'POST',
    url: '/libs/granite/security/post/authorizables',
    headers: { authorization: ADMIN, ...body.headers },
    payload: body.payload,
  });
  expect(created.statusCode).toBe(201);
  await addDeveloper(ims.store, { id: 'dev', password: 'dev-password', environment: 'p1-e1' }, 10);
}, 60_000);

// Each test closes the browsers it opened: several Chromiums at once are heavy on a small machine.
afterEach(async () => {
  await Promise.all(browsers.splice(0).map((b) => b.close()));
});
afterAll(async () => {
  await instance?.close();
  await ims?.close();
});

/** A browser of its own for one person on one server, recording every request it makes. */
async function person(origin: string) {
  const opened = await openBrowser();
  browsers.push(opened);
  const requests: string[] = [];
  opened.context.on('request', (r) => requests.push(r.url()));
  return { page: opened.page, requests, origin };
}
type Person = Awaited<ReturnType<typeof person>>;

/** Signs in with the keyboard only: Tab to each field, type, Enter. */
async function signIn(p: Person, mount: string, user: string, password: string) {
  await p.page.goto(`${p.origin}${mount}/login`);
  await tabTo(p.page, 'User name');
  await p.page.keyboard.type(user);
  await p.page.keyboard.press('Tab');
  expect(await focusedName(p.page)).toBe('Password');
  await p.page.keyboard.type(password);
  await Promise.all([
    p.page.waitForURL((u) => !u.pathname.endsWith('/login')),
    p.page.keyboard.press('Enter'),
  ]);
  expect(await p.page.getByText(`Signed in as ${user}`).count()).toBe(1);
}

/** The accessible name of the focused element (its label, its text). */
function focusedName(page: Page): Promise<string> {
  // Evaluated in the page (a string: this project's types have no DOM).
  return page.evaluate<string>(`(() => {
    const el = document.activeElement;
    if (!el) return '';
    const label = el.labels && el.labels[0] ? el.labels[0].textContent : null;
    return (el.getAttribute('aria-label') ?? label ?? el.textContent ?? '').trim();
  })()`);
}

/** Presses Tab from the top of the page until `name` has the focus; fails after 80 presses. */
async function tabTo(page: Page, name: string): Promise<number> {
  await page.evaluate('document.activeElement && document.activeElement.blur()');
  for (let presses = 1; presses <= 80; presses++) {
    await page.keyboard.press('Tab');
    if ((await focusedName(page)) === name) return presses;
  }
  throw new Error(`Tab never reached "${name}" on ${page.url()}`);
}

/** Every check a console page must pass; `status` is what the server answered. */
async function check(p: Person, label: string) {
  const { page } = p;
  expect(await page.title(), label).toMatch(/ · (System|Developer) Console · latchkey$/);
  expect(await seriousViolations(page), label).toEqual([]);
  expect(await fitsWidth(page, 360), `${label} at 360 px`).toBe(true);
  // The artifact shows the page as a phone does: 360 px wide.
  const before = page.viewportSize();
  await page.setViewportSize({ width: 360, height: 740 });
  await screenshot(page, `narrow-${label}`);
  if (before) await page.setViewportSize(before);
}

/** Visits a page and checks it; returns the pathname, for the coverage check. */
async function visit(p: Person, path: string, label: string, status = 200): Promise<string> {
  const res = await p.page.goto(`${p.origin}${path}`);
  expect(res?.status(), label).toBe(status);
  await check(p, label);
  return new URL(p.page.url()).pathname;
}

/** Every request the browser made went to the person's server (and the page's assets did). */
function ownOriginOnly(p: Person) {
  expect(p.requests.some((u) => u.endsWith('/assets/console.css'))).toBe(true);
  expect(p.requests.filter((u) => new URL(u).origin !== p.origin)).toEqual([]);
}

/**
 * Every GET page the app's consoles register (assets and downloads are not pages) is among the
 * paths visited, and each person's browser asked only that person's server.
 */
function everyPageChecked(app: FastifyInstance, seen: readonly string[], people: Person[]) {
  const pages = [...consolePagesOf(app)]
    .filter((r) => r.startsWith('GET '))
    .map((r) => r.slice(4))
    .filter((path) => !path.includes('/assets/') && !path.endsWith('/download'));
  for (const pattern of pages) {
    const re = new RegExp(`^${pattern.replace(/:\w+/g, '[^/]+').replace(/\*$/, '.+')}$`);
    expect(
      seen.some((path) => re.test(path)),
      `${pattern} was not checked`,
    ).toBe(true);
  }
  for (const p of people) ownOriginOnly(p);
}

describe.skipIf(!chromium)('every console page in Chromium', () => {
  it('System Console: no serious axe violation, fits 360 px, asks only its own server', async () => {
    const seen: string[] = [];
    const anonymous = await person(instance.url);
    seen.push(await visit(anonymous, '/system/console/login', 'system-sign-in'));
    // A wrong password: the error next to the field must be accessible too.
    await anonymous.page.getByLabel('User name').fill('admin');
    await anonymous.page.getByLabel('Password').fill('wrong');
    await anonymous.page.getByRole('button', { name: 'Sign in' }).click();
    await anonymous.page.getByText('The user name or password is wrong.').waitFor();
    await check(anonymous, 'system-sign-in-error');

    const admin = await person(instance.url);
    await signIn(admin, '/system/console', 'admin', ADMIN_PASSWORD);
    seen.push(new URL(admin.page.url()).pathname); // the start page's redirect target
    seen.push('/system/console');
    seen.push(await visit(admin, '/system/console/configMgr', 'system-configuration'));
    seen.push(await visit(admin, '/system/console/crypto', 'system-crypto'));
    seen.push(await visit(admin, '/system/console/health', 'system-health'));
    seen.push(await visit(admin, '/system/console/users', 'system-users'));
    seen.push(await visit(admin, '/system/console/users/alice', 'system-user'));
    seen.push(await visit(admin, '/system/console/users/nobody', 'system-not-found', 404));
    seen.push(await visit(admin, '/system/console/no-such-tab', 'system-no-page', 404));
    seen.push(await visit(admin, '/system/console/repository', 'system-repository'));
    seen.push(await visit(admin, '/system/console/audit', 'system-audit'));
    seen.push(
      await visit(admin, '/system/console/audit?since=yesterday', 'system-audit-error', 400),
    );
    expect(await admin.page.locator('[aria-invalid="true"]').count()).toBe(1);
    seen.push(
      await visit(
        admin,
        '/system/console/repository?path=%2Fcontent%2Fdam&edit=jcr%3AprimaryType',
        'system-repository-node',
      ),
    );
    seen.push(
      await visit(
        admin,
        '/system/console/repository/delete?path=%2Fcontent%2Fdam',
        'system-confirm',
      ),
    );
    // A form sent with a mistake: the message under the field.
    await admin.page.goto(`${instance.url}/system/console/users`);
    await admin.page.getByLabel('User id').fill('bad/name');
    await admin.page.getByRole('button', { name: 'Create user' }).click();
    await admin.page.locator('[aria-invalid="true"]').first().waitFor();
    await check(admin, 'system-users-error');
    expect(await admin.page.locator('[aria-invalid="true"]').count()).toBe(1);

    const alice = await person(instance.url);
    await signIn(alice, '/system/console', 'alice', 'alice-password');
    await check(alice, 'system-user-repository');
    seen.push(await visit(alice, '/system/console/configMgr', 'system-forbidden', 403));

    everyPageChecked(instance.app, seen, [anonymous, admin, alice]);
  }, 400_000);

  it('Developer Console: no serious axe violation, fits 360 px, asks only its own server', async () => {
    const seen: string[] = [];
    const anonymous = await person(ims.url);
    seen.push(await visit(anonymous, '/ims/console/login', 'ims-sign-in'));

    const admin = await person(ims.url);
    await signIn(admin, '/ims/console', 'admin', IMS_ADMIN_PASSWORD);
    seen.push(await visit(admin, '/ims/console', 'ims-organizations'));
    seen.push(await visit(admin, '/ims/console/environments/p1-e1', 'ims-environment'));
    await admin.page.getByRole('button', { name: 'Get Service Credentials' }).click();
    await admin.page.getByRole('heading', { name: 'Service credentials', level: 1 }).waitFor();
    await check(admin, 'ims-credentials');
    await admin.page.goto(`${ims.url}/ims/console/environments/p1-e1`);
    await admin.page.getByLabel('For user').fill('alice');
    await admin.page.getByRole('button', { name: 'Get Local Development Token' }).click();
    await admin.page.getByRole('heading', { name: 'Local development token', level: 1 }).waitFor();
    await check(admin, 'ims-dev-token');
    // The environment with an integration, a token and a form error.
    await admin.page.goto(`${ims.url}/ims/console/environments/p1-e1`);
    await admin.page.getByRole('button', { name: 'Get Local Development Token' }).click();
    await admin.page.locator('[aria-invalid="true"]').first().waitFor();
    await check(admin, 'ims-environment-error');
    expect(await admin.page.locator('[aria-invalid="true"]').count()).toBe(1);
    seen.push(
      await visit(
        admin,
        '/ims/console/environments/p1-e1/integrations/cm-p1-e1-integration/revoke',
        'ims-confirm',
      ),
    );
    seen.push(await visit(admin, '/ims/console/environments/p1-e1/developers', 'ims-developers'));
    seen.push(await visit(admin, '/ims/console/environments/p9-e9', 'ims-not-found', 404));
    seen.push(await visit(admin, '/ims/console/no-such-page', 'ims-no-page', 404));

    const dev = await person(ims.url);
    await signIn(dev, '/ims/console', 'dev', 'dev-password');
    await check(dev, 'ims-developer-organizations');
    seen.push(await visit(dev, '/ims/console/environments/p1-e1', 'ims-developer-environment'));

    everyPageChecked(ims.app, seen, [anonymous, admin, dev]);
  }, 400_000);

  it('would see a violation, a page too wide and a request elsewhere (the checks can fail)', async () => {
    const admin = await person(instance.url);
    await signIn(admin, '/system/console', 'admin', ADMIN_PASSWORD);
    await admin.page.goto(`${instance.url}/system/console/users`);
    await admin.page.evaluate(`document.querySelector('label[for="user-id"]').remove()`);
    expect((await seriousViolations(admin.page)).join()).toContain('label (critical)');
    await admin.page.evaluate(`document.querySelector('main').style.minWidth = '500px'`);
    expect(await fitsWidth(admin.page, 360)).toBe(false);
    // (The pages' Content-Security-Policy stops a script's fetch elsewhere; a navigation goes.)
    await admin.page.goto('http://127.0.0.2:9/').catch(() => {});
    expect(admin.requests).toContain('http://127.0.0.2:9/');
    expect(() => ownOriginOnly(admin)).toThrow();
  }, 120_000);
});

describe.skipIf(!chromium)('the consoles with the keyboard', () => {
  it('skips to the content, reaches the main actions with Tab and submits forms with Enter', async () => {
    const admin = await person(instance.url);
    await signIn(admin, '/system/console', 'admin', ADMIN_PASSWORD);
    const { page } = admin;

    // The first Tab offers to skip the header and tabs.
    await page.goto(`${instance.url}/system/console/configMgr`);
    expect(await tabTo(page, 'Skip to content')).toBe(1);
    await page.keyboard.press('Enter');
    expect(new URL(page.url()).hash).toBe('#main');

    // Configuration: Tab to the checkbox, Space ticks it, Tab to Save, Enter saves.
    await tabTo(page, 'Enable encapsulated token support');
    await page.keyboard.press('Space');
    await tabTo(page, 'Save');
    await Promise.all([page.waitForURL(/\?saved$/), page.keyboard.press('Enter')]);
    expect(await page.getByLabel('Enable encapsulated token support').isChecked()).toBe(true);
    await tabTo(page, 'Enable encapsulated token support');
    await page.keyboard.press('Space');
    await tabTo(page, 'Save');
    await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.keyboard.press('Enter'),
    ]);
    expect(await page.getByLabel('Enable encapsulated token support').isChecked()).toBe(false);

    // Users: the search field submits with Enter.
    await page.goto(`${instance.url}/system/console/users`);
    await tabTo(page, 'Search by id');
    await page.keyboard.type('ali');
    await Promise.all([page.waitForURL(/q=ali/), page.keyboard.press('Enter')]);
    expect(await page.getByRole('link', { name: 'alice' }).count()).toBe(1);
    expect(await page.getByRole('link', { name: 'admin', exact: true }).count()).toBe(0);

    // Repository: a path typed in Go to path, Enter.
    await page.goto(`${instance.url}/system/console/repository`);
    await tabTo(page, 'Go to path');
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('/content/dam');
    await Promise.all([page.waitForURL(/path=%2Fcontent%2Fdam/), page.keyboard.press('Enter')]);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('dam');

    // Audit: a filter typed in User, Enter; only that user's events remain.
    await page.goto(`${instance.url}/system/console/audit`);
    await tabTo(page, 'User');
    await page.keyboard.type('alice');
    await Promise.all([page.waitForURL(/user=alice/), page.keyboard.press('Enter')]);
    const actors = await page
      .getByRole('row')
      .evaluateAll((rows) => rows.slice(1).map((r) => r.textContent ?? ''));
    expect(actors.length).toBeGreaterThan(0);
    expect(actors.every((text) => text.includes('alice'))).toBe(true);

    // Developer Console: Tab to Get Service Credentials, Enter.
    const imsAdmin = await person(ims.url);
    await signIn(imsAdmin, '/ims/console', 'admin', IMS_ADMIN_PASSWORD);
    await imsAdmin.page.goto(`${ims.url}/ims/console/environments/p1-e1`);
    await tabTo(imsAdmin.page, 'Get Service Credentials');
    await imsAdmin.page.keyboard.press('Enter');
    await imsAdmin.page.getByRole('heading', { name: 'Service credentials', level: 1 }).waitFor();
  }, 180_000);
});

describe.skipIf(!chromium)('a form posted from a page of another origin', () => {
  let foreign: Server;
  let foreignUrl = '';
  beforeAll(async () => {
    if (!chromium) return;
    // Another origin on the same host: the same site, so the browser sends the cookies along.
    foreign = createServer((req, res) => {
      const target = new URL(req.url ?? '/', 'http://x').searchParams.get('to') ?? '';
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><title>elsewhere</title>
<form method="post" action="${target}">
<input type="hidden" name="token.encapsulated" value="true">
<input type="hidden" name="form" value="AAAAAAAAAAAAAAAAAAAAAA">
<button type="submit">Win a prize</button></form>`);
    });
    await new Promise<void>((done) => foreign.listen(0, '127.0.0.1', done));
    foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    foreign?.closeAllConnections();
    foreign?.close();
  });

  const attack = async (p: Person, target: string) => {
    await p.page.goto(`${foreignUrl}/?to=${encodeURIComponent(target)}`);
    const [res] = await Promise.all([
      p.page.waitForResponse((r) => r.url() === target),
      p.page.getByRole('button', { name: 'Win a prize' }).click(),
    ]);
    await p.page.waitForURL(target);
    return res;
  };

  it('is refused by both consoles, with a page that says why, and changes nothing', async () => {
    const admin = await person(instance.url);
    await signIn(admin, '/system/console', 'admin', ADMIN_PASSWORD);
    const refused = await attack(admin, `${instance.url}/system/console/configMgr`);
    expect(refused.status()).toBe(403);
    expect(await admin.page.getByRole('alert').textContent()).toBe(
      'This request came from a page of another site, so it was refused. Use the console itself.',
    );
    await admin.page.goto(`${instance.url}/system/console/configMgr`);
    expect(await admin.page.getByLabel('Enable encapsulated token support').isChecked()).toBe(
      false,
    );

    const imsAdmin = await person(ims.url);
    await signIn(imsAdmin, '/ims/console', 'admin', IMS_ADMIN_PASSWORD);
    const before = (await ims.store.listRecords('ims.integration', {})).length;
    const target = `${ims.url}/ims/console/environments/p1-e1/credentials`;
    const refusedIms = await attack(imsAdmin, target);
    expect(refusedIms.status()).toBe(403);
    expect(await imsAdmin.page.getByRole('alert').textContent()).toContain('another site');
    expect((await ims.store.listRecords('ims.integration', {})).length).toBe(before);
  }, 180_000);
});
