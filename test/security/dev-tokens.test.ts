import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
