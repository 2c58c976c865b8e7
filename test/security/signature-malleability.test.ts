import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceCredentials } from '../../src/ims/credentials.js';
import { formBody, http } from '../helpers/http.js';
import { testIms } from '../helpers/ims.js';
import { type TestInstance, testInstance } from '../helpers/instance.js';

/**
 * ECDSA malleability: for an ES256 signature (r, s), (r, n - s) verifies too, so anyone holding
 * an access token could make a second, different text of it that the instance and the IMS
 * accepted (node:crypto and jose both take high s). A cache or list keyed on the token's text is
 * sidestepped by that twin. The IMS now signs with the low s only and every verifier refuses the
 * high-s twin; revocation keys on the token's jti, whatever its text.
 */
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
let ims: Awaited<ReturnType<typeof testIms>>;
let author: TestInstance;
let creds: ServiceCredentials;

beforeAll(async () => {
  ims = await testIms();
  author = await testInstance(
    { role: 'author', 'ims.url': ims.url, 'ims.revocationPollMs': 1000 },
    { listen: true },
  );
  creds = await ims.credentials();
});
afterAll(async () => {
  await author.close();
  await ims.close();
});

const client = () =>
  [
    ['client_id', creds.integration.technicalAccount.clientId],
    ['client_secret', creds.integration.technicalAccount.clientSecret],
  ] as [string, string][];

async function accessToken(): Promise<string> {
  const res = await http(`${ims.url}/ims/token/v3`, {
    method: 'POST',
    ...formBody([
      ['grant_type', 'client_credentials'],
      ...client(),
      ['scope', 'ent_aem_cloud_api'],
    ]),
  });
  expect(res.status).toBe(200);
  return res.json().access_token;
}

const sOf = (token: string) =>
  BigInt(`0x${Buffer.from(token.split('.')[2]!, 'base64url').subarray(32).toString('hex')}`);

/** The same token with the other valid signature: (r, n - s). */
function twin(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const sig = Buffer.from(s, 'base64url');
  const other = (N - sOf(token)).toString(16).padStart(64, '0');
  return `${h}.${p}.${Buffer.concat([sig.subarray(0, 32), Buffer.from(other, 'hex')]).toString('base64url')}`;
}

const asBearer = (token: string) =>
  http(`${author.url}/libs/granite/security/currentuser.json`, {
    headers: { authorization: `Bearer ${token}` },
  });
const validate = async (token: string) =>
  (
    await http(`${ims.url}/ims/validate_token/v1`, {
      method: 'POST',
      ...formBody([['token', token], ['type', 'access_token'], ...client()]),
    })
  ).json().valid;

describe('ES256 access tokens have one text', () => {
  it('the IMS signs with the low s only', async () => {
    // Random signing gives a high s half of the time: 40 tokens all low by chance is 1 in 10^12.
    const tokens = await Promise.all(Array.from({ length: 40 }, () => accessToken()));
    for (const t of tokens) {
      expect(JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()).alg).toBe('ES256');
      expect(sOf(t) <= N / 2n).toBe(true);
    }
  });

  it('the high-s twin of a valid token is refused by the instance and by the IMS', async () => {
    const token = await accessToken();
    const copy = twin(token);
    expect(copy).not.toBe(token);
    // Both at once, twin first: the twin never rides on the original's verification.
    const [twinRes, ownRes] = await Promise.all([asBearer(copy), asBearer(token)]);
    expect(twinRes.status).toBe(401);
    expect(twinRes.json().error).toBe('invalid_token');
    expect(ownRes.status).toBe(200);
    // And after the original is cached as verified.
    expect((await asBearer(copy)).status).toBe(401);
    expect(await validate(token)).toBe(true);
    expect(await validate(copy)).toBe(false);
    const introspect = await http(`${ims.url}/ims/introspect`, {
      method: 'POST',
      ...formBody([['token', copy], ...client()]),
    });
    expect(introspect.json().active).toBe(false);
  });

  it('revoking a token stops it whatever its text: revocation keys on the jti', async () => {
    const token = await accessToken();
    expect((await asBearer(token)).status).toBe(200);
    const revoked = await http(`${ims.url}/ims/revoke`, {
      method: 'POST',
      ...formBody([['token', token], ...client()]),
    });
    expect(revoked.status).toBe(200);
    expect(await validate(token)).toBe(false);
    expect(await validate(twin(token))).toBe(false);
    // The instance learns it at its next poll (1 s here).
    const until = Date.now() + 10_000;
    while ((await asBearer(token)).status !== 401 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 200));
    expect((await asBearer(token)).status).toBe(401);
    expect((await asBearer(twin(token))).status).toBe(401);
  });
});
