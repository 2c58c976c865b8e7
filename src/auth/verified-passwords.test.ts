import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { credentialKey } from './verified-passwords.js';

describe('the key of verified Basic credentials', () => {
  const key = randomBytes(32);
  const password = 'correct horse battery staple';

  it('is an HMAC under the process key, never the password', () => {
    const k = credentialKey(key, 'alice', password);
    expect(k).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 bytes, base64url
    expect(k).not.toContain(password);
    expect(k).not.toContain(Buffer.from(password).toString('base64url'));
    expect(k).not.toContain('alice');
    // Another process (another random key) derives another key from the same credentials.
    expect(credentialKey(randomBytes(32), 'alice', password)).not.toBe(k);
    expect(credentialKey(key, 'alice', password)).toBe(k);
  });

  it('depends on both the user id and the password, with no ambiguity between them', () => {
    const k = credentialKey(key, 'alice', password);
    expect(credentialKey(key, 'alice', `${password}x`)).not.toBe(k);
    expect(credentialKey(key, 'bob', password)).not.toBe(k);
    // The split between id and password counts: "ab" + "c" is not "a" + "bc".
    expect(credentialKey(key, 'ab', 'c')).not.toBe(credentialKey(key, 'a', 'bc'));
    expect(credentialKey(key, 'a\u0000', 'b')).not.toBe(credentialKey(key, 'a', '\u0000b'));
  });
});
