import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { parseBasic } from '../../src/auth/basic.js';
import { readCookie } from '../../src/auth/tokens/cookie.js';
import { issueEncapsulated, verifyEncapsulated } from '../../src/auth/tokens/encapsulated.js';
import {
  issueStateful,
  type StatefulTokenCache,
  verifyStateful,
} from '../../src/auth/tokens/stateful.js';
import { TtlCache } from '../../src/cache/ttl-cache.js';
import { generateKeyVersion, type Keyring, makeKeySet } from '../../src/crypto/keyring.js';
import { LatchkeyError } from '../../src/errors.js';
import { type TestInstance, testInstance } from '../helpers/instance.js';
import { anyText, b64u, campaign, mutate } from './campaign.js';

// Login-token cookies of both formats (stateful `s1.` and encapsulated `e1.`), the cookie header
// and Basic credentials: tampered genuine tokens, tokens made without the key, and garbage. A
// forgery is any token accepted that latchkey did not issue, or accepted for another user.

let inst: TestInstance;
let keyring: Keyring;
const NOW = Date.now();
const genuineEncapsulated = new Map<string, string>(); // token → user
const genuineStateful = new Map<string, string>();
const ADDRESS = '203.0.113.7';
const statefulCache: StatefulTokenCache = new TtlCache({ ttlMs: 60_000, max: 1000 });

beforeAll(async () => {
  inst = await testInstance();
  keyring = inst.keys.keyring;
  const old = generateKeyVersion('hmac');
  // A keyring with a rotated-out version as well: tokens it signed stay valid, as after a rotation.
  keyring = { ...keyring, hmac: makeKeySet(keyring.hmac.primary, [old]) };
  for (const user of ['admin', 'alice', 'bob\u00e9', 'a'.repeat(150)])
    genuineEncapsulated.set(issueEncapsulated(keyring, user, NOW, 3_600_000), user);
  genuineEncapsulated.set(
    issueEncapsulated({ ...keyring, hmac: makeKeySet(old) }, 'carol', NOW, 3_600_000),
    'carol',
  );
  for (const user of ['admin', 'anonymous']) {
    const token = await issueStateful(inst.ctx, user, {
      now: NOW,
      lifetimeMs: 3_600_000,
      maxPerUser: 10,
      boundAddress: ADDRESS,
    });
    genuineStateful.set(token, user);
  }
});
afterAll(() => inst.close());

/** Encapsulated tokens made by someone without the hmac key. */
const madeWithoutKey = fc
  .tuple(
    fc.constantFrom('admin', 'alice', ''),
    fc.oneof(
      fc.constant(() => keyring.hmac.primary.id),
      fc
        .uint8Array({ minLength: 8, maxLength: 8 })
        .map((b) => () => Buffer.from(b).toString('hex')),
    ),
    fc.oneof(
      fc.constant(Buffer.alloc(32)),
      fc.constant(Buffer.from('')),
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b)),
      fc.constant(null), // the key id as the key
    ),
    fc.bigInt({ min: 0n, max: 999_999_999_999_999n }),
  )
  .map(([user, kid, key, exp]) => {
    const body = `e1.${kid()}.${b64u(user)}.${NOW}.${exp}`;
    const mac = createHmac('sha256', key ?? kid())
      .update(body)
      .digest();
    return `${body}.${b64u(mac)}`;
  });

describe('login-token cookies', () => {
  it('encapsulated (e1): tampered, keyless and garbage tokens are refused', async ({ task }) => {
    const tokens = [...genuineEncapsulated.keys()];
    const input = fc.oneof(
      fc.constantFrom(...tokens).chain(mutate),
      fc.constantFrom(...tokens),
      madeWithoutKey,
      fc.constantFrom(...tokens).map((t) => `${t.slice(0, t.lastIndexOf('.'))}.${'A'.repeat(43)}`),
      anyText.map((t) => `e1.${t}`),
      anyText,
    );
    await campaign(
      task,
      'login-token encapsulated',
      input,
      (token) => {
        const r = verifyEncapsulated(keyring, token, NOW);
        if (!r.ok) return 'refused';
        return genuineEncapsulated.get(token) === r.claims.userId ? 'accepted' : 'forgery';
      },
      { sample: 400, full: 30_000 },
    );
  });

  it('stateful (s1): tampered, guessed and garbage tokens are refused', async ({ task }) => {
    const tokens = [...genuineStateful.keys()];
    const input = fc.oneof(
      fc.constantFrom(...tokens).chain(mutate),
      fc.constantFrom(...tokens),
      // The right user and token id, a guessed secret.
      fc
        .tuple(fc.constantFrom(...tokens), fc.uint8Array({ minLength: 32, maxLength: 32 }))
        .map(([t, s]) => `${t.slice(0, t.lastIndexOf('.'))}.${b64u(s)}`),
      // Another user's name on a genuine id and secret.
      fc
        .tuple(fc.constantFrom(...tokens), fc.constantFrom('admin', 'anonymous', 'x', '../admin'))
        .map(([t, u]) => t.replace(/^s1\.[^.]+/, `s1.${b64u(u)}`)),
      anyText.map((t) => `s1.${t}`),
    );
    await campaign(
      task,
      'login-token stateful',
      fc.tuple(input, fc.constantFrom(ADDRESS, '198.51.100.1')),
      async ([token, address]) => {
        // Through the cache of token nodes as the server does: a genuine token's node is kept
        // once seen, and a tampered one is checked against it.
        const r = await verifyStateful(inst.ctx, token, NOW, address, statefulCache);
        if (!r.ok) return 'refused';
        return genuineStateful.get(token) === r.userId && address === ADDRESS
          ? 'accepted'
          : 'forgery';
      },
      { sample: 200, full: 5_000 },
    );
  });

  it('Cookie and Authorization: Basic headers parse or refuse with 401', async ({ task }) => {
    const header = fc.oneof(
      anyText,
      anyText.map((t) => `Basic ${t}`),
      anyText.map((t) => `basic ${b64u(t)}`),
      anyText.map((t) => `Basic ${Buffer.from(t).toString('base64')}`),
      fc
        .array(fc.tuple(anyText, anyText), { maxLength: 5 })
        .map((kv) => kv.map(([k, v]) => `${k}=${v}`).join('; ')),
    );
    await campaign(
      task,
      'headers (Cookie, Basic)',
      header,
      (h) => {
        readCookie(h, 'login-token');
        try {
          const basic = parseBasic(h);
          if (basic && (basic.user === '' || basic.user.includes(':'))) return 'forgery';
          return basic ? 'accepted' : 'refused';
        } catch (err) {
          if (err instanceof LatchkeyError && err.status === 401) return 'refused';
          throw err;
        }
      },
      { sample: 400, full: 10_000 },
    );
  });

  it('over HTTP: a cookie that is not a genuine token never signs anyone in', async ({ task }) => {
    const tokens = [...genuineEncapsulated.keys()].slice(0, 2);
    const stateful = [...genuineStateful.keys()][0]!;
    const input = fc.oneof(
      fc.constantFrom(...tokens, stateful).chain(mutate),
      madeWithoutKey,
      anyText.map((t) => encodeURIComponent(t).slice(0, 4000)),
    );
    await campaign(
      task,
      'login-token over HTTP',
      input,
      async (cookie) => {
        const res = await inst.app.inject({
          method: 'GET',
          url: '/libs/granite/security/currentuser.json',
          headers: { cookie: `login-token=${cookie}` },
        });
        if (res.statusCode >= 500) return 'crash';
        const who = res.statusCode === 200 ? res.json().authorizableId : undefined;
        if (who === undefined || who === 'anonymous') return 'refused';
        return genuineEncapsulated.has(cookie) ? 'accepted' : 'forgery';
      },
      { sample: 100, full: 1_000, hangMs: 10_000 },
    );
  });
});
