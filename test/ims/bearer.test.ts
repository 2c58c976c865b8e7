import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange } from '../../src/client/exchange.js';
import { lowSCompactJws } from '../../src/crypto/ecdsa-low-s.js';
import { createCredentials } from '../../src/ims/credentials.js';
import { loadSigningKeys } from '../../src/ims/signing-keys.js';
import { testIms } from '../helpers/ims.js';
import { ADMIN, form, type TestInstance, testInstance } from '../helpers/instance.js';

let ims: Awaited<ReturnType<typeof testIms>>;
let author: TestInstance;
let token: string;
let techAccount: string;

beforeAll(async () => {
  ims = await testIms();
  author = await testInstance({ role: 'author', 'ims.url': ims.url, environment: 'p1-e1' });
  const creds = await ims.credentials();
  techAccount = creds.integration.id;
  token = (await exchange(creds)).access_token;
  await author.app.inject({
    method: 'POST',
    url: '/libs/granite/security/post/authorizables',
    ...form([
      ['createUser', ''],
      ['authorizableId', 'alice'],
      ['rep:password', 'alice-pw'],
    ]),
    headers: { ...form([]).headers, authorization: ADMIN },
  });
});
afterAll(async () => {
  await author.close();
  await ims.close();
});

const get = (url: string, bearer: string) =>
  author.app.inject({ url, headers: { authorization: `Bearer ${bearer}` } });

/** A token signed with the IMS's own key, with chosen claims (low s, as the IMS signs). */
async function imsSigned(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
  const [key] = await loadSigningKeys(ims.store, ims.keys.keyring, 'ES256');
  const now = Math.floor(Date.now() / 1000);
  const signed = await new SignJWT({
    type: 'access_token',
    client_id: 'cm-p1-e1-integration',
    user_id: techAccount,
    env: 'p1-e1',
    iss: ims.publicUrl.issuer,
    ...claims,
  })
    .setProtectedHeader({ alg: 'ES256', kid: key!.kid, typ: 'JWT', ...header })
    .setIssuedAt(now)
    .setExpirationTime(typeof claims['exp'] === 'number' ? (claims['exp'] as number) : now + 3600)
    .setJti(randomUUID())
    .sign(key!.privateKey);
  return lowSCompactJws(signed);
}

describe('Authorization: Bearer on an instance', () => {
  it("answers the seed's call: curl -H 'Authorization: Bearer <token>' …/content/dam.json", async () => {
    const res = await get('/content/dam.json', token);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ 'jcr:primaryType': 'sling:Folder' });
  });

  it('acts as a service user of the technical account, whose permissions are the repository’s', async () => {
    const user = await author.store.getNode(
      `/home/users/${techAccount[0]!.toLowerCase()}/${techAccount}`,
    );
    expect(user?.primaryType).toBe('rep:SystemUser');
    expect(JSON.stringify(user?.properties)).not.toContain('rep:password');
    const who = await get('/libs/granite/security/currentuser.json', token);
    expect(who.json().authorizableId).toBe(techAccount);
    await author.app.inject({
      method: 'POST',
      url: '/content/dam.modifyAce.json',
      ...form([
        ['principalId', techAccount],
        ['privilege@jcr:read', 'denied'],
      ]),
      headers: { ...form([]).headers, authorization: ADMIN },
    });
    expect((await get('/content/dam.json', token)).statusCode).toBe(404);
    expect((await get('/content.json', token)).statusCode).toBe(200);
    await author.app.inject({
      method: 'POST',
      url: '/content/dam.deleteAce.json',
      ...form([[':applyTo', techAccount]]),
      headers: { ...form([]).headers, authorization: ADMIN },
    });
  });

  it('refuses a token for another environment', async () => {
    const org = ((await ims.store.listRecords('ims.org'))[0]!.value as { id: string }).id;
    await ims.store.putRecord('ims.environment', 'p1-e2', {
      id: 'p1-e2',
      program: 1,
      environment: 2,
      orgId: org,
    });
    const other = await createCredentials(ims.store, {
      environment: 'p1-e2',
      imsEndpoint: ims.endpoint,
    });
    const res = await get('/content/dam.json', (await exchange(other)).access_token);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({
      error: 'invalid_token',
      error_description: 'access token is for environment p1-e2, this instance is p1-e1',
    });
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('refuses forged, expired, algorithm-confused and malformed tokens', async () => {
    const [key] = await loadSigningKeys(ims.store, ims.keys.keyring, 'ES256');
    const foreign = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const forged = await new SignJWT({
      type: 'access_token',
      client_id: 'x',
      user_id: techAccount,
      env: 'p1-e1',
    })
      .setProtectedHeader({ alg: 'ES256', kid: key!.kid })
      .setExpirationTime('1h')
      .sign(foreign);
    const hsConfused = await new SignJWT({
      type: 'access_token',
      client_id: 'x',
      user_id: techAccount,
      env: 'p1-e1',
    })
      .setProtectedHeader({ alg: 'HS256', kid: key!.kid })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(JSON.stringify(key!.publicJwk)));
    const cases: [string, string, string][] = [
      ['forged', forged, 'access token signature is invalid'],
      [
        'expired',
        await imsSigned({ exp: Math.floor(Date.now() / 1000) - 10 }),
        'access token expired',
      ],
      ['alg confusion', hsConfused, `access token alg does not match key ${key!.kid}`],
      [
        'unknown kid',
        await imsSigned({}, { kid: 'nope' }),
        'access token signed with a key the IMS does not publish (nope)',
      ],
      ['not an access token', await imsSigned({ type: 'id_token' }), 'not an access token'],
      ['not typed JWT', await imsSigned({}, { typ: 'at+jwt' }), 'not an access token'],
      [
        'another issuer',
        await imsSigned({ iss: 'https://ims.example/ims' }),
        `access token is not issued by ${ims.publicUrl.issuer}`,
      ],
      [
        'no issuer',
        await imsSigned({ iss: undefined }),
        `access token is not issued by ${ims.publicUrl.issuer}`,
      ],
      [
        'not valid yet',
        await imsSigned({ nbf: Math.floor(Date.now() / 1000) + 3600 }),
        'access token not valid yet (nbf)',
      ],
      ['garbage', 'a.b.c', 'malformed access token'],
      ['tampered', `${token.slice(0, -4)}AAAA`, 'access token signature is invalid'],
    ];
    for (const [name, bearer, reason] of cases) {
      const res = await get('/content/dam.json', bearer);
      expect(res.statusCode, name).toBe(401);
      expect(res.json().error_description, name).toBe(reason);
    }
  });

  it('maps a user token to the existing repository user of that id, and refuses unknown users', async () => {
    const alice = await get('/home/users/a/alice.json', await imsSigned({ user_id: 'alice' }));
    expect(alice.statusCode).toBe(200);
    const ghost = await get('/content.json', await imsSigned({ user_id: 'ghost' }));
    expect(ghost.statusCode).toBe(401);
    expect(ghost.json().error_description).toBe('user ghost does not exist on this instance');
  });

  it('refuses bearer tokens on an instance without an IMS', async () => {
    const lone = await testInstance({ role: 'author' });
    try {
      const res = await lone.app.inject({
        url: '/content.json',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.statusCode).toBe(401);
      expect(res.json().error_description).toContain('no IMS configured');
    } finally {
      await lone.close();
    }
  });
});

// Regression: the first bearer requests after a start arrive together; while the one fetch of
// the IMS's keys ran, the others found the key unknown and "fetched recently", and got 401.
it('accepts every one of the first bearer requests a fresh instance gets at once', async () => {
  const fresh = await testInstance({ role: 'author', 'ims.url': ims.url, environment: 'p1-e1' });
  try {
    const all = await Promise.all(
      Array.from({ length: 8 }, () =>
        fresh.app.inject({ url: '/content.json', headers: { authorization: `Bearer ${token}` } }),
      ),
    );
    expect(all.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
  } finally {
    await fresh.close();
  }
});
