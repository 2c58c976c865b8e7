import { createCipheriv, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CryptoError } from './errors.js';
import { generateKeyVersion, type Keyring, makeKeySet } from './keyring.js';
import { protect } from './protect.js';
import { isProtected } from './protected-format.js';
import { unprotect } from './unprotect.js';

const ring = (aemMaster?: Buffer): Keyring => ({
  master: makeKeySet(generateKeyVersion('master')),
  hmac: makeKeySet(generateKeyVersion('hmac')),
  aemMaster,
});

function aemProtect(key: Buffer, plaintext: string): string {
  const iv = randomBytes(16);
  const c = createCipheriv('aes-128-cbc', key, iv);
  return `{${Buffer.concat([iv, c.update(plaintext, 'utf8'), c.final()]).toString('hex')}}`;
}

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CryptoError);
    return (err as CryptoError).code;
  }
  return 'no error';
};

describe('protect / unprotect', () => {
  const keyring = ring();

  it('round-trips any string (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (s) => {
        const sealed = protect(keyring, s);
        expect(isProtected(sealed)).toBe(true);
        expect(unprotect(keyring, sealed)).toBe(s);
      }),
      { numRuns: 500 },
    );
  });

  it('names the sealing key and uses a fresh IV each time', () => {
    const a = protect(keyring, 'x');
    expect(a.startsWith(`{lk1.${keyring.master.primary.id}.`)).toBe(true);
    expect(protect(keyring, 'x')).not.toBe(a);
  });

  it('rejects any tampered or truncated value with a clear error, never garbage (property)', () => {
    const sealed = protect(keyring, 'the client secret');
    fc.assert(
      fc.property(fc.nat(sealed.length - 1), fc.integer({ min: 1, max: 127 }), (pos, delta) => {
        const ch = String.fromCharCode((sealed.charCodeAt(pos) + delta) % 128);
        const mutated = sealed.slice(0, pos) + ch + sealed.slice(pos + 1);
        if (mutated === sealed) return;
        expect(['tampered', 'malformed_protected_value', 'unknown_key']).toContain(
          code(() => unprotect(keyring, mutated)),
        );
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.nat(sealed.length - 1), (cut) => {
        expect(['tampered', 'malformed_protected_value']).toContain(
          code(() => unprotect(keyring, sealed.slice(0, cut))),
        );
        const inner = `${sealed.slice(0, cut)}}`;
        if (inner !== sealed) {
          expect(['tampered', 'malformed_protected_value', 'unknown_key']).toContain(
            code(() => unprotect(keyring, inner)),
          );
        }
      }),
    );
  });

  // Found by the attack campaign (test/attack/protected-values.test.ts): the data's last
  // character could be spelled with other unused low bits, and that second text opened as the
  // first. A sealed value now has one text, as tokens do.
  it('refuses the same sealed bytes spelled another way (unused bits of the last character)', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (const text of ['a', 'ab', 'abc', 'the client secret']) {
      const sealed = protect(keyring, text);
      const last = sealed.length - 2;
      const data = sealed.slice(sealed.lastIndexOf('.') + 1, -1);
      // 12-byte IV + 16-byte tag + n bytes: unused bits unless (28 + n) is a multiple of 3.
      if ((28 + Buffer.byteLength(text)) % 3 === 0) continue;
      const twin = `${sealed.slice(0, last)}${alphabet[alphabet.indexOf(sealed[last]!) ^ 1]}}`;
      expect(Buffer.from(twin.slice(twin.lastIndexOf('.') + 1, -1), 'base64url')).toEqual(
        Buffer.from(data, 'base64url'),
      );
      expect(isProtected(twin)).toBe(false);
      expect(code(() => unprotect(keyring, twin))).toBe('malformed_protected_value');
    }
  });

  it('refuses a value sealed with another key, naming it', () => {
    const other = ring();
    const sealed = protect(other, 'x');
    expect(() => unprotect(keyring, sealed)).toThrow(other.master.primary.id);
    expect(code(() => unprotect(keyring, sealed))).toBe('unknown_key');
    // Same key id, different key (forged id): authentication fails.
    const forged = sealed.replace(other.master.primary.id, keyring.master.primary.id);
    expect(code(() => unprotect(keyring, forged))).toBe('tampered');
  });

  it('keeps older master versions for opening', () => {
    const old = generateKeyVersion('master');
    const before: Keyring = { ...keyring, master: makeKeySet(old) };
    const sealed = protect(before, 'kept');
    const after: Keyring = { ...keyring, master: makeKeySet(generateKeyVersion('master'), [old]) };
    expect(unprotect(after, sealed)).toBe('kept');
  });
});

describe('AEM legacy values', () => {
  const aem = randomBytes(16);
  const keyring = ring(aem);

  it('opens {hex(iv || AES-128-CBC ciphertext)} with the imported AEM master key', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 100 }), (s) => {
        expect(unprotect(keyring, aemProtect(aem, s))).toBe(s);
      }),
      { numRuns: 200 },
    );
  });

  it('says the AEM master key is needed when none was imported', () => {
    const value = aemProtect(aem, 'x');
    expect(() => unprotect(ring(), value)).toThrow(/import-aem/);
  });

  it('refuses a wrong AEM key or a mutated value', () => {
    const value = aemProtect(aem, 'secret value with some length');
    expect(code(() => unprotect(ring(randomBytes(16)), value))).toBe('tampered');
    const last = value.length - 2;
    const mutated = `${value.slice(0, last)}${value[last] === '0' ? '1' : '0'}}`;
    expect(code(() => unprotect(keyring, mutated))).toBe('tampered');
  });

  it('tells protected values from other text', () => {
    for (const v of [
      '',
      '{}',
      'plain',
      '{abc}',
      '{lk1.zz.abc}',
      `{${'0'.repeat(31)}}`,
      'lk1.0123456789abcdef.AAAA',
    ]) {
      expect(isProtected(v), v).toBe(false);
    }
    expect(isProtected(`{${'ab'.repeat(32)}}`)).toBe(true);
  });
});
