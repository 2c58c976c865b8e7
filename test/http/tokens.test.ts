import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueEncapsulated } from '../../src/auth/tokens/encapsulated.js';
import { rotateKey } from '../../src/crypto/rotate.js';
import { toStored } from '../../src/repository/properties.js';
import { ADMIN, form, type TestInstance, testInstance } from '../helpers/instance.js';

const PID = 'com.day.crx.security.token.impl.impl.TokenAuthenticationHandler';
let inst: TestInstance;
const logs: string[] = [];

beforeAll(async () => {
  inst = await testInstance({ role: 'author', 'tokens.maxPerUser': 3 }, { logLines: logs });
  for (const id of ['alice', 'bob', 'gone']) {
    await inst.app.inject({
      method: 'POST',
      url: '/libs/granite/security/post/authorizables',
      ...form([
        ['createUser', ''],
        ['authorizableId', id],
        ['rep:password', `${id}-pw`],
      ]),
      headers: { ...form([]).headers, authorization: ADMIN },
    });
  }
});
afterAll(() => inst.close());

const login = (user: string, password: string, extra: [string, string][] = []) =>
  inst.app.inject({
    method: 'POST',
    url: '/j_security_check',
    ...form([['j_username', user], ['j_password', password], ...extra]),
    headers: { ...form([]).headers, 'x-test': '1' },
  });
const expiry = (node: { properties: Record<string, unknown> } | undefined) =>
  Date.parse(
    (node?.properties['rep:token.exp'] as { values: string[] } | undefined)?.values[0] ?? '',
  );
const tokenOf = (setCookie: string | string[] | undefined) =>
  /^login-token=([^;]*)/.exec(String(setCookie))?.[1] ?? '';
const asToken = (url: string, token: string) =>
  inst.app.inject({ url, headers: { cookie: `login-token=${token}` } });
const whoami = async (token: string) =>
  (await asToken('/libs/granite/security/currentuser.json', token)).json().authorizableId;
const configure = (pairs: [string, string][]) =>
  inst.app.inject({
    method: 'POST',
    url: `/system/console/configMgr/${PID}`,
    ...form([['apply', 'true'], ['propertylist', pairs.map(([k]) => k).join(',')], ...pairs]),
    headers: { ...form([]).headers, authorization: ADMIN },
  });

describe('login', () => {
  it('sets an HttpOnly, Path=/, SameSite=Lax login-token cookie', async () => {
    const res = await login('alice', 'alice-pw');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ authorizableId: 'alice', home: '/home/users/a/alice' });
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^login-token=s1\.[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(await whoami(tokenOf(cookie))).toBe('alice');
    expect((await asToken('/home/users/a/alice.json', tokenOf(cookie))).statusCode).toBe(200);
  });

  it('redirects to a same-site resource, never elsewhere', async () => {
    const res = await login('alice', 'alice-pw', [['resource', '/content.json']]);
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/content.json');
    for (const evil of ['//evil.example/x', 'https://evil.example/', '/\\evil']) {
      expect((await login('alice', 'alice-pw', [['resource', evil]])).statusCode).toBe(200);
    }
  });

  it('refuses a wrong password with 403 and no cookie', async () => {
    const res = await login('bob', 'nope');
    expect(res.statusCode).toBe(403);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.json().error).toBe('invalid_credentials');
    expect((await login('nobody', 'x')).statusCode).toBe(403);
    expect((await login('', '')).statusCode).toBe(400);
  });

  it('says anonymous without a token', async () => {
    const res = await inst.app.inject({ url: '/libs/granite/security/currentuser.json' });
    expect(res.json()).toEqual({ authorizableId: 'anonymous', anonymous: true });
  });
});

describe('stateful tokens', () => {
  it('keeps only a salted hash in the repository, with the expiry', async () => {
    const token = tokenOf((await login('bob', 'bob-pw')).headers['set-cookie']);
    const [, , id, secret] = token.split('.');
    const node = await inst.store.getNode(`/home/users/b/bob/.tokens/${id}`);
    if (!node) throw new Error('no token node');
    expect(JSON.stringify(node)).not.toContain(secret);
    expect(JSON.stringify(node.properties['rep:token.key'])).toMatch(/sha256:/);
    const exp = expiry(node);
    expect(Math.abs(exp - (Date.now() + 43_200_000))).toBeLessThan(60_000);
    // .tokens never renders
    expect(
      (
        await inst.app.inject({
          url: '/home/users/b/bob.infinity.json',
          headers: { authorization: ADMIN },
        })
      ).body,
    ).not.toContain('tokens');
  });

  it('refuses and removes an expired token, and slides one past half-life', async () => {
    const token = tokenOf((await login('bob', 'bob-pw')).headers['set-cookie']);
    const path = `/home/users/b/bob/.tokens/${token.split('.')[2]}`;
    const node = (await inst.store.getNode(path))!;
    const date = (ms: number) =>
      toStored({ type: 'Date', multiple: false, values: [new Date(ms).toISOString()] });
    await inst.store.putNode({
      ...node,
      properties: {
        ...node.properties,
        'latchkey:issued': date(Date.now() - 40_000_000),
        'rep:token.exp': date(Date.now() + 3_000_000),
      },
    });
    expect(await whoami(token)).toBe('bob');
    const slid = expiry(await inst.store.getNode(path));
    expect(slid).toBeGreaterThan(Date.now() + 43_000_000);
    await inst.store.putNode({
      ...node,
      properties: { ...node.properties, 'rep:token.exp': date(Date.now() - 1) },
    });
    const refused = await asToken('/home/users/b/bob.json', token);
    expect(refused.statusCode).toBe(401);
    expect(refused.json().error_description).toContain('expired');
    expect(String(refused.headers['set-cookie'])).toContain('Max-Age=0');
    expect(await inst.store.getNode(path)).toBeUndefined();
  });

  it('never accepts a mutated or truncated stateful token (property)', async () => {
    const token = tokenOf((await login('bob', 'bob-pw')).headers['set-cookie']);
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 61 }), async (at, delta) => {
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const pos = at % token.length;
        const i = alphabet.indexOf(token[pos]!);
        fc.pre(i !== -1);
        const mutated = token.slice(0, pos) + alphabet[(i + delta) % 64] + token.slice(pos + 1);
        const secretStart = token.lastIndexOf('.') + 1;
        fc.pre(pos !== token.length - 1 || pos < secretStart); // the last character's spare bits
        expect(await whoami(mutated)).toBe('anonymous');
        expect(await whoami(token.slice(0, pos))).toBe('anonymous');
      }),
      { numRuns: 150 },
    );
    expect(await whoami(token)).toBe('bob');
  });

  it('caps live tokens per user (oldest retired first)', async () => {
    const tokens: string[] = [];
    for (let i = 0; i < 5; i++)
      tokens.push(tokenOf((await login('gone', 'gone-pw')).headers['set-cookie']));
    expect((await inst.store.listChildren('/home/users/g/gone/.tokens')).length).toBe(3);
    expect(await whoami(tokens[0]!)).toBe('anonymous');
    expect(await whoami(tokens[4]!)).toBe('gone');
  });

  it('logs out: the token is removed and the cookie cleared', async () => {
    const token = tokenOf((await login('alice', 'alice-pw')).headers['set-cookie']);
    const out = await asToken('/system/sling/logout', token);
    expect(out.statusCode).toBe(200);
    expect(String(out.headers['set-cookie'])).toMatch(/^login-token=; .*Max-Age=0/);
    expect((await asToken('/home/users/a/alice.json', token)).statusCode).toBe(401);
  });

  it('refuses tokens of a deleted user at once', async () => {
    const token = tokenOf((await login('gone', 'gone-pw')).headers['set-cookie']);
    expect(await whoami(token)).toBe('gone');
    await inst.app.inject({
      method: 'POST',
      url: '/home/users/g/gone',
      ...form([['deleteAuthorizable', '']]),
      headers: { ...form([]).headers, authorization: ADMIN },
    });
    expect((await asToken('/content.json', token)).statusCode).toBe(401);
  });
});

describe('encapsulated tokens and switching modes', () => {
  let stateful: string;
  let encapsulated: string;

  it('is configured through the Felix console form and readable as JSON', async () => {
    stateful = tokenOf((await login('alice', 'alice-pw')).headers['set-cookie']);
    const res = await configure([['token.encapsulated', 'true']]);
    expect(res.statusCode).toBe(200);
    expect(res.json().properties['token.encapsulated'].value).toBe(true);
    const json = await inst.app.inject({
      url: `/system/console/configMgr/${PID}.json`,
      headers: { authorization: ADMIN },
    });
    expect(json.json()).toMatchObject({
      pid: PID,
      properties: { 'token.expiration': { value: 43_200_000 } },
    });
    expect((await inst.store.getNode(`/conf/latchkey/osgi/${PID}`))?.primaryType).toBe(
      'sling:OsgiConfig',
    );
  });

  it('issues HMAC-signed tokens naming the hmac key, and keeps stateful ones valid', async () => {
    const res = await login('alice', 'alice-pw');
    encapsulated = tokenOf(res.headers['set-cookie']);
    expect(encapsulated.startsWith(`e1.${inst.keys.keyring.hmac.primary.id}.`)).toBe(true);
    expect(await whoami(encapsulated)).toBe('alice');
    expect(await whoami(stateful)).toBe('alice'); // switching modes logs nobody out
  });

  it('refuses mutated tokens and tokens of another key with a clear reason', async () => {
    const flipped = `${encapsulated.slice(0, -2)}${encapsulated.at(-2) === 'A' ? 'B' : 'A'}${encapsulated.at(-1)}`;
    const res = await asToken('/content.json', flipped);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({
      error: 'invalid_token',
      error_description: 'login-token refused: encapsulated login-token has a bad signature',
    });
    const otherKid = encapsulated.replace(/^e1\.[0-9a-f]{16}/, 'e1.0123456789abcdef');
    // From an address with no refusal this minute: the log has the reason (refusals from one
    // address are logged once a minute, see test/security/log-flood.test.ts).
    const other = await inst.app.inject({
      url: '/content.json',
      headers: { cookie: `login-token=${otherKid}` },
      remoteAddress: '127.0.0.9',
    });
    expect(other.json().error_description).toContain('unknown hmac key 0123456789abcdef');
    expect(logs.some((l) => l.includes('unknown hmac key 0123456789abcdef'))).toBe(true);
  });

  it('keeps older tokens valid after an hmac rotation', async () => {
    const before = inst.keys.keyring.hmac.primary.id;
    await rotateKey(inst.keys.location, 'hmac');
    await inst.keys.reload();
    expect(await whoami(encapsulated)).toBe('alice');
    const fresh = tokenOf((await login('alice', 'alice-pw')).headers['set-cookie']);
    expect(fresh.startsWith(`e1.${before}.`)).toBe(false);
  });

  it('re-issues an encapsulated token past half-life, not before', async () => {
    const old = issueEncapsulated(inst.keys.keyring, 'alice', Date.now() - 40_000_000, 43_200_000);
    const res = await asToken('/libs/granite/security/currentuser.json', old);
    expect(res.json().authorizableId).toBe('alice');
    const renewed = tokenOf(res.headers['set-cookie']);
    expect(renewed.startsWith('e1.')).toBe(true);
    expect(Number(renewed.split('.')[4])).toBeGreaterThan(Date.now() + 43_000_000);
    expect(
      (await asToken('/libs/granite/security/currentuser.json', renewed)).headers['set-cookie'],
    ).toBeUndefined();
  });

  it('turning encapsulation off keeps encapsulated tokens valid', async () => {
    const res = await configure([['token.encapsulated', 'false']]);
    expect(res.json().properties['token.encapsulated'].value).toBe(false);
    expect(await whoami(encapsulated)).toBe('alice');
    expect(
      tokenOf((await login('alice', 'alice-pw')).headers['set-cookie']).startsWith('s1.'),
    ).toBe(true);
  });
});

describe('the token handler form', () => {
  it('applies listed properties only; a listed Boolean left out of the form is false', async () => {
    await configure([['token.encapsulated', 'true']]);
    const off = await inst.app.inject({
      method: 'POST',
      url: `/system/console/configMgr/${PID}`,
      ...form([
        ['apply', 'true'],
        ['propertylist', 'token.encapsulated'],
      ]),
      headers: { ...form([]).headers, authorization: ADMIN },
    });
    expect(off.json().properties['token.encapsulated'].value).toBe(false);
  });

  it('applies SameSite (None forces Secure)', async () => {
    await configure([['token.samesite.cookie.attr', 'None']]);
    expect(String((await login('alice', 'alice-pw')).headers['set-cookie'])).toMatch(
      /SameSite=None; Secure$/,
    );
    await configure([['token.samesite.cookie.attr', 'strict']]);
    expect(String((await login('alice', 'alice-pw')).headers['set-cookie'])).toMatch(
      /SameSite=Strict$/,
    );
  });

  it('refuses bad values, unknown PIDs and non-administrators', async () => {
    for (const pair of [
      ['token.expiration', 'soon'],
      ['token.expiration', '10'],
      ['token.samesite.cookie.attr', 'Sometimes'],
      ['token.encapsulated', 'maybe'],
      ['token.unknown', 'x'],
    ] as [string, string][]) {
      const res = await configure([pair]);
      expect(res.statusCode, pair.join('=')).toBe(400);
    }
    const noApply = await inst.app.inject({
      method: 'POST',
      url: `/system/console/configMgr/${PID}`,
      ...form([['propertylist', 'token.encapsulated']]),
      headers: { ...form([]).headers, authorization: ADMIN },
    });
    expect(noApply.statusCode).toBe(400);
    const other = await inst.app.inject({
      method: 'POST',
      url: '/system/console/configMgr/org.other',
      ...form([['apply', 'true']]),
      headers: { ...form([]).headers, authorization: ADMIN },
    });
    expect(other.statusCode).toBe(404);
    const anon = await inst.app.inject({
      method: 'POST',
      url: `/system/console/configMgr/${PID}`,
      ...form([['apply', 'true']]),
    });
    expect(anon.statusCode).toBe(401);
  });
});

describe('brute force', () => {
  it('throttles per user with 429 and Retry-After, and never logs the password', async () => {
    for (let i = 0; i < 5; i++)
      expect((await login('bob', `wrong-${i}-secretish`)).statusCode).toBe(403);
    const res = await login('bob', 'bob-pw');
    expect(res.statusCode).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.json().error).toBe('too_many_requests');
    expect(logs.some((l) => l.includes('login failed') && l.includes('"user":"bob"'))).toBe(true);
    expect(logs.some((l) => l.includes('secretish') || l.includes('bob-pw'))).toBe(false);
    expect((await login('alice', 'alice-pw')).statusCode).toBe(200); // other users unaffected
  });

  it('keeps secrets out of every log line', async () => {
    expect(logs.some((l) => /alice-pw|s1\.[A-Za-z0-9_-]{10,}|e1\.[0-9a-f]{16}\./.test(l))).toBe(
      false,
    );
  });
});

describe('encapsulated validation reads no store', () => {
  it('still validates with the store closed', async () => {
    const own = await testInstance({ role: 'author' });
    await own.app.inject({
      method: 'POST',
      url: `/system/console/configMgr/${PID}`,
      ...form([
        ['apply', 'true'],
        ['propertylist', 'token.encapsulated'],
        ['token.encapsulated', 'true'],
      ]),
      headers: { ...form([]).headers, authorization: ADMIN },
    });
    const res = await own.app.inject({
      method: 'POST',
      url: '/j_security_check',
      ...form([
        ['j_username', 'admin'],
        ['j_password', 'admin-test-password'],
      ]),
    });
    const token = tokenOf(res.headers['set-cookie']);
    const ask = () =>
      own.app.inject({
        url: '/libs/granite/security/currentuser.json',
        headers: { cookie: `login-token=${token}` },
      });
    expect((await ask()).json().authorizableId).toBe('admin'); // warms the user cache
    await own.store.close(); // the store is gone: any read would fail
    const after = await ask();
    expect(after.statusCode).toBe(200);
    expect(after.json().authorizableId).toBe('admin');
    await own.close().catch(() => {});
  });
});
