import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken } from '../../src/ims/access-token.js';
import { loadSigningKeys } from '../../src/ims/signing-keys.js';
import { basicAuth, formBody, http } from '../helpers/http.js';
import { IMS_ADMIN_PASSWORD, testIms } from '../helpers/ims.js';
import { ADMIN_PASSWORD, type TestInstance, testInstance } from '../helpers/instance.js';
import { runCli } from '../helpers/process.js';

/**
 * A leaked local development token: pasted in a chat, left in CI logs. The administrator must be
 * able to find it and stop it (one token, or every token of the user) before its 24 hours end,
 * and no such token may exist for the repository's admin.
 */
const IMS_ADMIN = basicAuth('admin', IMS_ADMIN_PASSWORD);
const POLL_MS = 1000;
let ims: Awaited<ReturnType<typeof testIms>>;
let author: TestInstance;

const imsPost = (path: string, pairs: [string, string][]) => {
  const f = formBody(pairs);
  return http(`${ims.url}${path}`, {
    method: 'POST',
    body: f.body,
    headers: { ...f.headers, authorization: IMS_ADMIN },
  });
};
const issue = async (user: string) => {
  const res = await imsPost('/ims/admin/dev-token', [
    ['user', user],
    ['environment', 'p1-e1'],
  ]);
  expect(res.status).toBe(200);
  return res.json().accessToken as string;
};
const jtiOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
/** What the attacker holding `token` gets from the instance. */
const replay = async (token: string) =>
  (
    await http(`${author.url}/libs/granite/security/currentuser.json`, {
      headers: { authorization: `Bearer ${token}` },
    })
  ).status;
const validAtIms = async (token: string) =>
  (
    await http(`${ims.url}/ims/validate_token/v1`, {
      method: 'POST',
      ...formBody([['token', token]]),
    })
  ).json();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  ims = await testIms();
  author = await testInstance(
    { role: 'author', 'ims.url': ims.url, 'ims.revocationPollMs': POLL_MS },
    { listen: true },
  );
  for (const id of ['dev', 'dev2']) {
    const f = formBody([
      ['createUser', ''],
      ['authorizableId', id],
      ['rep:password', `${id}-pw`],
    ]);
    const res = await http(`${author.url}/libs/granite/security/post/authorizables`, {
      method: 'POST',
      body: f.body,
      headers: { ...f.headers, authorization: basicAuth('admin', ADMIN_PASSWORD) },
    });
    expect(res.status).toBe(201);
  }
});
afterAll(async () => {
  await author.close();
  await ims.close();
});

describe('development tokens are listed and revocable', () => {
  it('one leaked token is found in the list and revoked: the IMS at once, instances within the poll', async () => {
    const leaked = await issue('dev');
    const other = await issue('dev');
    expect(await replay(leaked)).toBe(200);
    const list = await http(`${ims.url}/ims/admin/dev-tokens?user=dev`, {
      headers: { authorization: IMS_ADMIN },
    });
    expect(list.status).toBe(200);
    expect(list.text).not.toContain(leaked); // ids only, never the tokens
    const listed = list.json().tokens as { jti: string; revoked: boolean }[];
    expect(listed.map((t) => t.jti)).toEqual([jtiOf(leaked), jtiOf(other)]);
    const revoked = await imsPost('/ims/admin/dev-tokens/revoke', [['jti', jtiOf(leaked)]]);
    expect(revoked.json()).toEqual({ revoked: 1 });
    expect(await validAtIms(leaked)).toMatchObject({ valid: false, reason: 'revoked' });
    await sleep(POLL_MS + 500);
    expect(await replay(leaked)).toBe(401);
    expect(await replay(other)).toBe(200);
  });

  it('every token of a user is revoked at once, and a token issued afterwards works', async () => {
    const tokens = [await issue('dev2'), await issue('dev2')];
    const res = await imsPost('/ims/admin/dev-tokens/revoke', [['user', 'dev2']]);
    expect(res.json()).toEqual({ revoked: 2 });
    for (const t of tokens) expect((await validAtIms(t)).valid).toBe(false);
    await sleep(POLL_MS + 500);
    for (const t of tokens) expect(await replay(t)).toBe(401);
    await sleep(5); // a token issued in the same millisecond as the revocation counts as before it
    expect(await replay(await issue('dev2'))).toBe(200);
  });

  it('revoking by user takes only a user id: nothing else enters the revocation list instances pull', async () => {
    for (const user of ['"><img src=x>', 'y'.repeat(100_000), 'a:b', ' ']) {
      const res = await imsPost('/ims/admin/dev-tokens/revoke', [['user', user]]);
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({ error: 'invalid_request' });
    }
    const list = (await http(`${ims.url}/ims/revocations`)).json();
    expect(
      Object.keys(list.users).every((u) => /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/.test(u)),
    ).toBe(true);
  });

  it('from the command line: latchkey token list and latchkey token revoke', async () => {
    const token = await issue('dev');
    const list = await runCli(['token', 'list', '--user', 'dev', '--data', ims.dataDir]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(jtiOf(token));
    expect(list.stdout).not.toContain(token);
    const revoke = await runCli(['token', 'revoke', jtiOf(token), '--data', ims.dataDir]);
    expect(revoke.stderr).toBe('');
    expect(revoke.stdout).toContain('1 development token revoked');
    expect(await validAtIms(token)).toMatchObject({ valid: false, reason: 'revoked' });
    const all = await runCli(['token', 'revoke', '--user', 'dev', '--data', ims.dataDir]);
    expect(all.code).toBe(0);
    const json = await runCli(['token', 'list', '--user', 'dev', '--json', '--data', ims.dataDir]);
    expect((JSON.parse(json.stdout).tokens as { revoked: boolean }[]).every((t) => t.revoked)).toBe(
      true,
    );
  });

  it('no development token is issued for the repository admin', async () => {
    for (const user of ['admin', 'ADMIN']) {
      const res = await imsPost('/ims/admin/dev-token', [
        ['user', user],
        ['environment', 'p1-e1'],
      ]);
      expect(res.status).toBe(400);
      expect(res.json().error_description).toContain('not issued for admin');
    }
    const cli = await runCli([
      'token',
      'dev',
      '--user',
      'admin',
      '--environment',
      'p1-e1',
      '--data',
      ims.dataDir,
    ]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('not issued for admin');
  });

  it('no development token or developer acts as an integration’s technical account', async () => {
    const created = await imsPost('/ims/admin/credentials', [['environment', 'p1-e1']]);
    expect(created.status).toBe(201);
    const technical = created.json().integration.id as string;
    expect(technical).toMatch(/@techacct\.adobe\.com$/);
    // Such a token acted as the integration's service user on the instance, and outlived the
    // integration's revocation (it is not the integration's token).
    for (const user of [technical, technical.toUpperCase(), 'made-up@TechAcct.Adobe.com']) {
      const res = await imsPost('/ims/admin/dev-token', [
        ['user', user],
        ['environment', 'p1-e1'],
      ]);
      expect(res.status, user).toBe(400);
      expect(res.json().error_description).toContain('technical account');
    }
    // Nor can an administrator make a developer of it, who would get such tokens for itself.
    const signIn = await http(`${ims.url}/ims/console/login`, {
      method: 'POST',
      ...formBody([
        ['j_username', 'admin'],
        ['j_password', IMS_ADMIN_PASSWORD],
      ]),
    });
    expect(signIn.status).toBe(303);
    const cookie = String([signIn.headers['set-cookie']].flat()[0]).split(';')[0]!;
    const page = await http(`${ims.url}/ims/console/environments/p1-e1/developers`, {
      headers: { cookie },
    });
    expect(page.status).toBe(200);
    const csrf = /name=":cq_csrf_token" value="([^"]+)"/.exec(page.text)![1]!;
    const add = await http(`${ims.url}/ims/console/environments/p1-e1/developers`, {
      method: 'POST',
      ...formBody([
        [':cq_csrf_token', csrf],
        ['id', technical],
        ['password', 'developer-password'],
      ]),
      headers: { ...formBody([]).headers, cookie },
    });
    expect(add.status).toBe(400);
    expect(add.text).toContain('technical account');
    // A development token for it that an IMS issued before it refused them (as that IMS signed
    // it) is refused by the instance: it would act as the integration's service user.
    const [key] = await loadSigningKeys(ims.store, ims.keys.keyring, 'ES256');
    const old = await signAccessToken(
      key!,
      {
        clientId: 'dev-console-p1-e1',
        userId: technical,
        scope: 'AdobeID,openid,read_organizations,additional_info.projectedProductContext',
        environment: 'p1-e1',
      },
      { issuer: ims.publicUrl.issuer, as: 'ims-na1' },
      Date.now(),
      'dev-token',
    );
    const replayed = await http(`${author.url}/content.json`, {
      headers: { authorization: `Bearer ${old.token}` },
    });
    expect(replayed.status).toBe(401);
    expect(replayed.json().error_description).toContain('technical account');
  });

  it('a developer’s new password revokes the development tokens got with the old one', async () => {
    const admin = await consoleSignIn('admin', IMS_ADMIN_PASSWORD);
    const setPassword = async (password: string) => {
      const page = await consoleGet(admin, '/ims/console/environments/p1-e1/developers');
      const res = await consolePost(admin, '/ims/console/environments/p1-e1/developers', [
        [':cq_csrf_token', csrfIn(page.text)],
        ['id', 'dev'],
        ['password', password],
      ]);
      expect(res.status).toBe(303);
    };
    await setPassword('first-password');
    // Someone who learnt the password signs in and gets a token for a day.
    const thief = await consoleSignIn('dev', 'first-password');
    const page = await consoleGet(thief, '/ims/console/environments/p1-e1');
    const shown = await consolePost(thief, '/ims/console/environments/p1-e1/dev-token', [
      [':cq_csrf_token', csrfIn(page.text)],
      ['form', /name="form" value="([^"]+)"/.exec(page.text)![1]!],
    ]);
    expect(shown.status).toBe(200);
    const stolen = /eyJ[\w-]+\.[\w-]+\.[\w-]+/.exec(shown.text)![0];
    expect(await replay(stolen)).toBe(200);
    // The administrator gives the developer the same password again: nothing changes ...
    await setPassword('first-password');
    expect((await validAtIms(stolen)).valid).toBe(true);
    // ... a new one: the tokens got with the old one stop, as the console session did.
    await setPassword('second-password');
    expect((await validAtIms(stolen)).valid).toBe(false);
    let status = await replay(stolen);
    for (let i = 0; status !== 401 && i < 50; i++) {
      await sleep(100);
      status = await replay(stolen);
    }
    expect(status).toBe(401);
    expect((await consoleGet(thief, '/ims/console/environments/p1-e1')).status).toBe(303);
  });
});

const csrfIn = (html: string) => /name=":cq_csrf_token" value="([^"]+)"/.exec(html)![1]!;
/** Signs in to the Developer Console; the session cookie. */
async function consoleSignIn(user: string, password: string): Promise<string> {
  const res = await http(`${ims.url}/ims/console/login`, {
    method: 'POST',
    ...formBody([
      ['j_username', user],
      ['j_password', password],
    ]),
  });
  expect(res.status).toBe(303);
  return String([res.headers['set-cookie']].flat()[0]).split(';')[0]!;
}
const consoleGet = (cookie: string, path: string) =>
  http(`${ims.url}${path}`, { headers: { cookie } });
const consolePost = (cookie: string, path: string, pairs: [string, string][]) => {
  const f = formBody(pairs);
  return http(`${ims.url}${path}`, {
    method: 'POST',
    body: f.body,
    headers: { ...f.headers, cookie },
  });
};
