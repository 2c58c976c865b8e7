import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateKeyVersion, type Keyring, makeKeySet } from '../../crypto/keyring.js';
import { issueEncapsulated, verifyEncapsulated } from './encapsulated.js';

const ring = (): Keyring => ({
  master: makeKeySet(generateKeyVersion('master')),
  hmac: makeKeySet(generateKeyVersion('hmac')),
  aemMaster: undefined,
});
const keyring = ring();
const NOW = 1_800_000_000_000;
const userId = fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' });

describe('encapsulated tokens', () => {
  it('accept what they issued, for any user id', () => {
    fc.assert(
      fc.property(userId, (uid) => {
        const r = verifyEncapsulated(
          keyring,
          issueEncapsulated(keyring, uid, NOW, 60_000),
          NOW + 1,
        );
        expect(r.ok && r.claims.userId).toBe(uid);
      }),
    );
  });

  it('never accept a mutated token', () => {
    fc.assert(
      fc.property(userId, fc.nat(), fc.integer({ min: 1, max: 94 }), (uid, at, delta) => {
        const token = issueEncapsulated(keyring, uid, NOW, 60_000);
        const pos = at % token.length;
        const ch = String.fromCharCode(((token.charCodeAt(pos) - 32 + delta) % 95) + 32);
        const mutated = token.slice(0, pos) + ch + token.slice(pos + 1);
        fc.pre(mutated !== token);
        const r = verifyEncapsulated(keyring, mutated, NOW + 1);
        // A base64url character's spare low bits can change without changing the bytes: then the
        // token is the same token. Anything else must fail.
        if (r.ok)
          expect(Buffer.from(mutated.split('.').at(-1)!, 'base64url')).toEqual(
            Buffer.from(token.split('.').at(-1)!, 'base64url'),
          );
        if (r.ok) expect(mutated.split('.').slice(0, -1)).toEqual(token.split('.').slice(0, -1));
      }),
      { numRuns: 2000 },
    );
  });

  it('never accept a truncated or extended token', () => {
    fc.assert(
      fc.property(
        userId,
        fc.nat(),
        fc.string({ minLength: 1, maxLength: 5 }),
        (uid, cut, extra) => {
          const token = issueEncapsulated(keyring, uid, NOW, 60_000);
          expect(verifyEncapsulated(keyring, token.slice(0, cut % token.length), NOW + 1).ok).toBe(
            false,
          );
          expect(verifyEncapsulated(keyring, token + extra, NOW + 1).ok).toBe(false);
        },
      ),
    );
  });

  it('never accept a token re-signed with another key, or with changed claims', () => {
    const other = ring();
    fc.assert(
      fc.property(userId, fc.integer({ min: 1, max: 10_000_000 }), (uid, extension) => {
        const token = issueEncapsulated(keyring, uid, NOW, 60_000);
        const parts = token.split('.');
        // Longer expiry, same signature.
        parts[4] = String(NOW + 60_000 + extension);
        expect(verifyEncapsulated(keyring, parts.join('.'), NOW + 1).ok).toBe(false);
        // Re-signed with another key under this key's id.
        const body = token.slice(0, token.lastIndexOf('.'));
        const forged = `${body}.${createHmac('sha256', other.hmac.primary.key).update(body).digest('base64url')}`;
        expect(verifyEncapsulated(keyring, forged, NOW + 1)).toEqual({
          ok: false,
          reason: 'encapsulated login-token has a bad signature',
        });
      }),
    );
  });

  it('never accept an expired token', () => {
    fc.assert(
      fc.property(userId, fc.integer({ min: 0, max: 1e9 }), (uid, late) => {
        const token = issueEncapsulated(keyring, uid, NOW, 60_000);
        expect(verifyEncapsulated(keyring, token, NOW + 60_000 + late)).toEqual({
          ok: false,
          reason: 'encapsulated login-token expired',
        });
      }),
    );
  });

  it('accept tokens of an older hmac key version, and name an unknown one', () => {
    const old = generateKeyVersion('hmac');
    const before: Keyring = { ...keyring, hmac: makeKeySet(old) };
    const after: Keyring = { ...keyring, hmac: makeKeySet(generateKeyVersion('hmac'), [old]) };
    const token = issueEncapsulated(before, 'alice', NOW, 60_000);
    expect(verifyEncapsulated(after, token, NOW).ok).toBe(true);
    expect(verifyEncapsulated(keyring, token, NOW)).toEqual({
      ok: false,
      reason: `encapsulated login-token signed with unknown hmac key ${old.id}`,
    });
  });
});
