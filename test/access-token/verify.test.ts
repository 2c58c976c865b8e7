import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeToken } from '../../src/access-token/decode.js';
import { signToken } from '../../src/access-token/sign.js';
import type { VerificationKey } from '../../src/access-token/types.js';
import { verifyAccessToken } from '../../src/access-token/verify.js';
import { isLowS } from '../../src/crypto/ecdsa-low-s.js';

const ISSUER = 'https://ims.example/ims';
const es = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rs = generateKeyPairSync('rsa', { modulusLength: 2048 });
const esKey = { kid: 'es256-1', alg: 'ES256', privateKey: es.privateKey } as const;
const rsKey = { kid: 'rs256-1', alg: 'RS256', privateKey: rs.privateKey } as const;
const published = new Map<string, VerificationKey>([
  ['es256-1', { kid: 'es256-1', alg: 'ES256', key: es.publicKey }],
  ['rs256-1', { kid: 'rs256-1', alg: 'RS256', key: rs.publicKey }],
]);
const keyOf = (kid: string) => published.get(kid);
const now = Date.now();
const claims = (extra: Record<string, unknown> = {}) => ({
  type: 'access_token',
  client_id: 'cm-p1-e1-integration',
  user_id: 'TECH@techacct.adobe.com',
  env: 'p1-e1',
  iss: ISSUER,
  iat: Math.floor(now / 1000),
  exp: Math.floor(now / 1000) + 600,
  jti: 'j-1',
  ...extra,
});
const check = (token: string) => verifyAccessToken(token, keyOf, { issuer: ISSUER, now });

describe('the access-token module', () => {
  it('signs with node:crypto (ES256 low s, RS256) and verifies what it signed', () => {
    for (const key of [esKey, rsKey]) {
      const token = signToken(key, claims());
      const decoded = decodeToken(token)!;
      expect([decoded.alg, decoded.kid, decoded.typ]).toEqual([key.alg, key.kid, 'JWT']);
      if (key.alg === 'ES256') expect(isLowS(decoded.signature)).toBe(true);
      const r = check(token);
      expect(r.ok, key.alg).toBe(true);
      if (r.ok)
        expect(r.claims).toMatchObject({
          clientId: 'cm-p1-e1-integration',
          environment: 'p1-e1',
          jti: 'j-1',
        });
    }
  });

  it('one claims check: iss, exp, nbf, typ, type, client and user', () => {
    const refusal = (extra: Record<string, unknown>) => {
      const r = check(signToken(esKey, claims(extra)));
      return r.ok ? 'accepted' : r.failure;
    };
    expect(refusal({ iss: 'https://other.example/ims' })).toBe('wrong_issuer');
    expect(refusal({ iss: undefined })).toBe('wrong_issuer');
    expect(refusal({ exp: Math.floor(now / 1000) - 1 })).toBe('expired');
    expect(refusal({ exp: String(Math.floor(now / 1000) + 600) })).toBe('expired');
    expect(refusal({ nbf: Math.floor(now / 1000) + 600 })).toBe('not_yet_valid');
    expect(refusal({ nbf: Math.floor(now / 1000) + 10 })).toBe('accepted'); // within the skew
    expect(refusal({ type: 'id_token' })).toBe('bad_claims');
    expect(refusal({ user_id: 42 })).toBe('bad_claims');
    // typ: the header the IMS writes, nothing else.
    const [, payload, signature] = signToken(esKey, claims()).split('.');
    const header = Buffer.from(
      JSON.stringify({ alg: 'ES256', kid: 'es256-1', typ: 'at+jwt' }),
    ).toString('base64url');
    expect(check(`${header}.${payload}.${signature}`)).toMatchObject({ ok: false });
  });

  it('the algorithm is the key’s: a kid of one algorithm never verifies another', () => {
    // An RS256 signature presented under the ES256 key's id, with either alg in the header.
    const token = signToken(rsKey, claims());
    const [, payload, signature] = token.split('.');
    for (const alg of ['RS256', 'ES256']) {
      const header = Buffer.from(JSON.stringify({ alg, kid: 'es256-1', typ: 'JWT' })).toString(
        'base64url',
      );
      const r = check(`${header}.${payload}.${signature}`);
      expect(r.ok, alg).toBe(false);
      if (!r.ok) expect(['alg_mismatch', 'bad_signature']).toContain(r.failure);
    }
    expect(check(signToken({ ...esKey, kid: 'nope' }, claims()))).toMatchObject({
      ok: false,
      failure: 'unknown_key',
    });
    expect(check('a.b.c')).toMatchObject({ ok: false, failure: 'malformed' });
  });
});
