import { createPrivateKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceCredentials } from '../../src/ims/credentials.js';
import { basicAuth, cookieValue, formBody, http } from '../helpers/http.js';
import { testIms } from '../helpers/ims.js';
import { ADMIN_PASSWORD, type TestInstance, testInstance } from '../helpers/instance.js';

/**
 * Exchange JWTs an attacker reuses or crafts: one made for another IMS, one naming metascopes
 * under another IMS's prefix, one dated in the future (made now, used later), and tokens and
 * cookies re-spelled in non-canonical base64url (the same bytes, another text: padding, or other
 * bits in the last character's unused low bits), which slip past caches and revocation lists
 * keyed on the text.
 */
let ims: Awaited<ReturnType<typeof testIms>>;
let author: TestInstance;
let creds: ServiceCredentials;

beforeAll(async () => {
  ims = await testIms();
  author = await testInstance({ role: 'author', 'ims.url': ims.url }, { listen: true });
  creds = await ims.credentials();
});
afterAll(async () => {
  await author.close();
  await ims.close();
});

/** A correctly signed exchange JWT with these claims changed. */
async function jwt(changes: Record<string, unknown> = {}, iat?: number): Promise<string> {
  const i = creds.integration;
  const base = ims.url;
  const now = Math.floor(Date.now() / 1000);
  const builder = new SignJWT({
    iss: i.org,
    sub: i.id,
    aud: `${base}/c/${i.technicalAccount.clientId}`,
    [`${base}/s/ent_aem_cloud_api`]: true,
    jti: randomUUID(),
    exp: now + 300,
    ...changes,
  }).setProtectedHeader({ alg: 'RS256' });
  if (iat !== undefined) builder.setIssuedAt(iat);
  return builder.sign(createPrivateKey(i.privateKey));
}

const exchange = (token: string) =>
  http(`${ims.url}/ims/exchange/jwt`, {
    method: 'POST',
    ...formBody([
      ['client_id', creds.integration.technicalAccount.clientId],
      ['client_secret', creds.integration.technicalAccount.clientSecret],
      ['jwt_token', token],
    ]),
  });

/** The same bytes spelled differently: the last character's unused low bits changed. */
function respell(part: string): string {
  const bytes = Buffer.from(part, 'base64url');
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (const c of alphabet) {
    const other = part.slice(0, -1) + c;
    if (other !== part && Buffer.from(other, 'base64url').equals(bytes)) return other;
  }
  throw new Error(`${part.length} characters leave no spare bits`);
}
const respellLast = (token: string, separator = '.') => {
  const parts = token.split(separator);
  parts[parts.length - 1] = respell(parts[parts.length - 1]!);
  return parts.join(separator);
};

describe('exchange JWTs are for this IMS only', () => {
  it('refuses a JWT made for another IMS (aud), even one ending in /c/<client_id>', async () => {
    const clientId = creds.integration.technicalAccount.clientId;
    for (const aud of [
      `https://ims-na1.adobelogin.com/c/${clientId}`,
      `${ims.url}/evil/c/${clientId}`,
      `${ims.url.replace('127.0.0.1', 'localhost')}/c/${clientId}`,
    ]) {
      const res = await exchange(await jwt({ aud }));
      expect(res.status, aud).toBe(400);
      expect(res.json().error_description).toBe(`aud must be ${ims.url}/c/${clientId}`);
    }
    expect((await exchange(await jwt())).status).toBe(200);
  });

  it('refuses metascope claims under another IMS’s prefix', async () => {
    const res = await exchange(
      await jwt({
        [`${ims.url}/s/ent_aem_cloud_api`]: undefined,
        'https://ims-na1.adobelogin.com/s/ent_aem_cloud_api': true,
      }),
    );
    expect(res.status).toBe(400);
    expect(res.json().error).toBe('invalid_scope');
    expect(res.json().error_description).toContain(`must be ${ims.url}/s/<metascope>`);
  });

  it('refuses a JWT issued in the future beyond the 30 s skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    const future = await exchange(await jwt({}, now + 3600));
    expect(future.status).toBe(400);
    expect(future.json().error_description).toBe('the JWT has an iat in the future');
    expect((await exchange(await jwt({}, now + 10))).status).toBe(200);
  });
});

describe('one spelling per token: non-canonical base64url is refused everywhere', () => {
  it('an exchange JWT with padding or re-spelled signature bits', async () => {
    const token = await jwt();
    for (const bad of [respellLast(token), `${token}=`, token.replace('.', '=.')]) {
      const res = await exchange(bad);
      expect(res.status).toBe(400);
      expect(res.json().error_description).toBe('the JWT is malformed');
    }
  });

  it('an access token re-spelled is refused by the instance and by validate_token', async () => {
    const access = (await exchange(await jwt())).json().access_token as string;
    const bearer = (t: string) =>
      http(`${author.url}/content.json`, { headers: { authorization: `Bearer ${t}` } });
    expect((await bearer(access)).status).toBe(200);
    const respelled = respellLast(access);
    expect((await bearer(respelled)).status).toBe(401);
    const validate = await http(`${ims.url}/ims/validate_token/v1`, {
      method: 'POST',
      ...formBody([['token', respelled]]),
    });
    expect(validate.json()).toMatchObject({ valid: false });
  });

  it('client_secret_basic at the IMS: only the canonical base64 authenticates', async () => {
    const { clientId, clientSecret } = creds.integration.technicalAccount;
    const token = (authorization: string) =>
      http(`${ims.url}/ims/token/v3`, {
        method: 'POST',
        ...formBody([['grant_type', 'client_credentials']]),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${authorization}`,
        },
        localAddress: '127.0.0.2',
      });
    // "id:secret" and "id:secretx", "id:secretxy": one of them ends in each padding length.
    for (const extra of ['', 'x', 'xy']) {
      const raw = Buffer.from(`${clientId}:${clientSecret}${extra}`);
      const good = raw.toString('base64');
      const stripped = good.replace(/=+$/, '');
      const spellings = [
        stripped === good ? undefined : stripped, // padding left out
        `${good}==`, // padding added
        good.replace(/\+/g, '-').replace(/\//g, '_') === good
          ? undefined
          : good.replace(/\+/g, '-').replace(/\//g, '_'), // URL-safe alphabet
        `${good.slice(0, 8)} ${good.slice(8)}`, // a space inside
        `${good}!!`, // trailing junk
        stripped === good
          ? undefined
          : `${respell(stripped.replace(/\+/g, '-').replace(/\//g, '_')).replace(/-/g, '+').replace(/_/g, '/')}${good.slice(stripped.length)}`, // unused bits
      ].filter((v): v is string => v !== undefined && v !== good);
      const results = await Promise.all(spellings.map(token));
      for (const [i, res] of results.entries()) {
        expect(res.status, spellings[i]).toBe(401);
        expect(res.json().error, spellings[i]).toBe('invalid_client');
      }
      if (extra === '') expect((await token(good)).status).toBe(200);
    }
  });

  it('login-token cookies (stateful and encapsulated) and Basic credentials re-spelled', async () => {
    const login = await http(`${author.url}/j_security_check`, {
      method: 'POST',
      ...formBody([
        ['j_username', 'admin'],
        ['j_password', ADMIN_PASSWORD],
      ]),
    });
    const stateful = cookieValue(login.headers['set-cookie'], 'login-token')!;
    const who = async (cookie: string) =>
      (
        await http(`${author.url}/libs/granite/security/currentuser.json`, {
          headers: { cookie: `login-token=${cookie}` },
        })
      ).json().authorizableId;
    expect(await who(stateful)).toBe('admin');
    expect(await who(respellLast(stateful))).toBe('anonymous');
    const { issueEncapsulated } = await import('../../src/auth/tokens/encapsulated.js');
    const encapsulated = issueEncapsulated(author.keys.keyring, 'admin', Date.now(), 60_000);
    expect(await who(encapsulated)).toBe('admin');
    expect(await who(respellLast(encapsulated))).toBe('anonymous');
    // Basic: "admin:<password>" in base64 with other unused bits before the padding.
    const good = basicAuth('admin', ADMIN_PASSWORD).slice(6);
    const stripped = good.replace(/=+$/, '');
    const bad = `${respell(stripped.replace(/\+/g, '-').replace(/\//g, '_')).replace(/-/g, '+').replace(/_/g, '/')}${good.slice(stripped.length)}`;
    expect(bad).not.toBe(good);
    const res = await http(`${author.url}/content.json`, {
      headers: { authorization: `Basic ${bad}` },
    });
    expect(res.status).toBe(401);
  });
});
