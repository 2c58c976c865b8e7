import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, formBody, http } from '../helpers/http.js';
import { IMS_ADMIN_PASSWORD, testIms } from '../helpers/ims.js';
import { ADMIN_PASSWORD, type TestInstance, testInstance } from '../helpers/instance.js';

/**
 * `GET /ims/revocations` is open (instances poll it without credentials), and it listed which
 * integrations' client ids and which users' ids were revoked, and when: anyone who could reach
 * the IMS learned its client ids and user names. Now it names them by the SHA-256 of their ids,
 * which instances compare with a token's: revocation works as before, the list names no one.
 */
const IMS_ADMIN = basicAuth('admin', IMS_ADMIN_PASSWORD);
let ims: Awaited<ReturnType<typeof testIms>>;
let author: TestInstance;
const sha256 = (id: string) => createHash('sha256').update(id).digest('hex');

const imsPost = (path: string, pairs: [string, string][]) => {
  const f = formBody(pairs);
  return http(`${ims.url}${path}`, {
    method: 'POST',
    body: f.body,
    headers: { ...f.headers, authorization: IMS_ADMIN },
  });
};
const onAuthor = async (token: string) =>
  (
    await http(`${author.url}/libs/granite/security/currentuser.json`, {
      headers: { authorization: `Bearer ${token}` },
    })
  ).status;

beforeAll(async () => {
  ims = await testIms();
  author = await testInstance(
    { role: 'author', 'ims.url': ims.url, 'ims.revocationPollMs': 1000 },
    { listen: true },
  );
  const f = formBody([
    ['createUser', ''],
    ['authorizableId', 'dev-user'],
    ['rep:password', 'dev-user-pw'],
  ]);
  const res = await http(`${author.url}/libs/granite/security/post/authorizables`, {
    method: 'POST',
    body: f.body,
    headers: { ...f.headers, authorization: basicAuth('admin', ADMIN_PASSWORD) },
  });
  expect(res.status).toBe(201);
});
afterAll(async () => {
  await author.close();
  await ims.close();
});

describe('the revocation list names no one', () => {
  it('lists revoked integrations and users by hash, and instances still refuse their tokens', async () => {
    const creds = await ims.credentials();
    const clientId = creds.integration.technicalAccount.clientId;
    const grant = formBody([
      ['grant_type', 'client_credentials'],
      ['client_id', clientId],
      ['client_secret', creds.integration.technicalAccount.clientSecret],
    ]);
    const issued = await http(`${ims.url}/ims/token/v3`, { method: 'POST', ...grant });
    const serviceToken = issued.json().access_token as string;
    const dev = await imsPost('/ims/admin/dev-token', [
      ['user', 'dev-user'],
      ['environment', 'p1-e1'],
    ]);
    const devToken = dev.json().accessToken as string;
    expect(await onAuthor(serviceToken)).toBe(200);
    expect(await onAuthor(devToken)).toBe(200);

    expect((await imsPost(`/ims/admin/credentials/${clientId}/revoke`, [])).status).toBe(200);
    expect((await imsPost('/ims/admin/dev-tokens/revoke', [['user', 'dev-user']])).status).toBe(
      200,
    );

    // What anyone gets, without credentials.
    const list = await http(`${ims.url}/ims/revocations`);
    expect(list.status).toBe(200);
    expect(list.text).not.toContain(clientId);
    expect(list.text).not.toContain('dev-user');
    const body = list.json() as {
      clients: Record<string, number>;
      users: Record<string, number>;
    };
    expect(Object.keys(body.clients)).toEqual([sha256(clientId)]);
    expect(Object.keys(body.users)).toEqual([sha256('dev-user')]);

    // The instance compares hashes: both tokens are refused within its poll.
    for (let i = 0; i < 50; i++) {
      if ((await onAuthor(serviceToken)) === 401 && (await onAuthor(devToken)) === 401) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await onAuthor(serviceToken)).toBe(401);
    expect(await onAuthor(devToken)).toBe(401);
  });
});
