import { createCipheriv, randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeBundle } from '../../src/crypto/bundle.js';
import { CryptoError } from '../../src/crypto/errors.js';
import { exportKeys } from '../../src/crypto/export.js';
import { importKeys } from '../../src/crypto/import.js';
import { importAemKeys } from '../../src/crypto/import-aem.js';
import { loadKeyring } from '../../src/crypto/load-keyring.js';
import { protect } from '../../src/crypto/protect.js';
import { unprotect } from '../../src/crypto/unprotect.js';
import { keyLocation } from '../helpers/keys.js';

let a: ReturnType<typeof keyLocation>;
let b: ReturnType<typeof keyLocation>;
beforeEach(() => {
  a = keyLocation();
  b = keyLocation();
});
afterEach(async () => {
  await a.close();
  await b.close();
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CryptoError);
    return (err as CryptoError).code;
  }
  return 'no error';
}

describe('keys export / import', () => {
  it('moves both keys to a fresh instance, which then opens what the first sealed', async () => {
    const ring = await loadKeyring(a, { initialize: 'file' });
    const sealed = protect(ring, 'shared secret');
    const out = join(a.data, 'keys.json');
    await exportKeys(a, out);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    await importKeys(b, readFileSync(out, 'utf8'));
    const imported = await loadKeyring(b, { initialize: 'file' }); // must not generate new ones
    expect(imported.master.primary.id).toBe(ring.master.primary.id);
    expect(imported.hmac.primary.id).toBe(ring.hmac.primary.id);
    expect(unprotect(imported, sealed)).toBe('shared secret');
    expect(await code(exportKeys(a, out))).toBe('invalid_request'); // never overwrites
  });

  it('seals the bundle with a passphrase and refuses a wrong one or an edited file', async () => {
    await loadKeyring(a, { initialize: 'file' });
    const out = join(a.data, 'sealed.json');
    await exportKeys(a, out, 'correct horse');
    const text = readFileSync(out, 'utf8');
    expect(text).not.toContain('"keys"');
    expect(await code(importKeys(b, text))).toBe('invalid_bundle');
    expect(await code(importKeys(b, text, { passphrase: 'wrong' }))).toBe('invalid_bundle');
    const edited = text.replace(/"data":"(.)/, (_m, c) => `"data":"${c === 'A' ? 'B' : 'A'}`);
    expect(await code(importKeys(b, edited, { passphrase: 'correct horse' }))).toBe(
      'invalid_bundle',
    );
    await importKeys(b, text, { passphrase: 'correct horse' });
    expect((await loadKeyring(b)).master.primary.id).toBe((await loadKeyring(a)).master.primary.id);
  });

  // Found by the attack campaign (test/attack/key-bundles.test.ts): the key-derivation parameters
  // come from the file, and ln 22, r 32, p 16 passed the checks, asking scrypt for 16 GiB and
  // hours of work before the passphrase was checked.
  it('refuses crafted key-derivation parameters beyond four times what export writes, at once', async () => {
    const sealed = (params: Record<string, number>) =>
      JSON.stringify({
        format: 'latchkey-keys',
        version: 1,
        sealed: {
          kdf: 'scrypt',
          ...params,
          salt: 'AAAA',
          iv: 'AAAAAAAAAAAAAAAA',
          data: 'A'.repeat(64),
        },
      });
    for (const params of [
      { ln: 22, r: 32, p: 16 },
      { ln: 20, r: 8, p: 1 },
      { ln: 17, r: 8, p: 8 },
      { ln: 17, r: 32, p: 2 },
    ]) {
      await expect(decodeBundle(sealed(params), 'x')).rejects.toThrow(
        'unsupported key derivation parameters',
      );
    }
    // What export writes, and cheaper, are read (and then fail on the passphrase or the data).
    await expect(decodeBundle(sealed({ ln: 17, r: 8, p: 1 }), 'x')).rejects.toThrow(
      'wrong passphrase',
    );
  });

  it('detects a damaged plain bundle and rejects garbage', async () => {
    await loadKeyring(a, { initialize: 'file' });
    const out = join(a.data, 'keys.json');
    await exportKeys(a, out);
    const bundle = JSON.parse(readFileSync(out, 'utf8'));
    bundle.keys.master[0] = randomBytes(32).toString('base64');
    expect(await code(importKeys(b, JSON.stringify(bundle)))).toBe('invalid_bundle');
    for (const text of ['', 'null', '{}', '[]', '{"format":"latchkey-keys","version":2}']) {
      expect(await code(decodeBundle(text))).toBe('invalid_bundle');
    }
  });

  it('refuses a bundle that would orphan sealed data, unless told to keep the current keys', async () => {
    await loadKeyring(a, { initialize: 'file' });
    const mine = await loadKeyring(b, { initialize: 'file' });
    const sealedHere = protect(mine, 'local secret');
    const out = join(a.data, 'keys.json');
    await exportKeys(a, out);
    const text = readFileSync(out, 'utf8');
    expect(await code(importKeys(b, text))).toBe('would_orphan');
    expect((await loadKeyring(b)).master.primary.id).toBe(mine.master.primary.id); // unchanged
    await importKeys(b, text, { keepExisting: true });
    const after = await loadKeyring(b);
    expect(after.master.primary.id).toBe((await loadKeyring(a)).master.primary.id);
    expect(unprotect(after, sealedHere)).toBe('local secret');
  });
});

describe('keys import-aem', () => {
  it("imports AEM's 16-byte master key, after which AEM's {hex} values open", async () => {
    await loadKeyring(a, { initialize: 'file' });
    const aemKey = randomBytes(16);
    const file = join(a.data, 'aem-master-file');
    writeFileSync(file, aemKey);
    await importAemKeys(a, { master: file });
    const iv = randomBytes(16);
    const c = createCipheriv('aes-128-cbc', aemKey, iv);
    const legacy = `{${Buffer.concat([iv, c.update('aem client secret', 'utf8'), c.final()]).toString('hex')}}`;
    expect(unprotect(await loadKeyring(a), legacy)).toBe('aem client secret');
  });

  it('refuses key files of other lengths, saying what was expected', async () => {
    await loadKeyring(a, { initialize: 'file' });
    const file = join(a.data, 'wrong');
    writeFileSync(file, randomBytes(32));
    await expect(importAemKeys(a, { master: file })).rejects.toThrow(
      /an AEM master key has 16 bytes; .* has 32/,
    );
    const good = join(a.data, 'good');
    writeFileSync(good, randomBytes(16));
    await expect(importAemKeys(a, { master: good, hmac: good })).rejects.toThrow(
      /an hmac key has 32 bytes/,
    );
    await expect(importAemKeys(a, { master: join(a.data, 'missing') })).rejects.toThrow(
      /cannot read .*ENOENT/,
    );
  });

  it('makes an AEM hmac key the primary hmac key', async () => {
    await loadKeyring(a, { initialize: 'file' });
    const master = join(a.data, 'm');
    const hmac = join(a.data, 'h');
    writeFileSync(master, randomBytes(16));
    writeFileSync(hmac, randomBytes(32));
    const r = await importAemKeys(a, { master, hmac });
    expect((await loadKeyring(a)).hmac.primary.id).toBe(r.hmac);
  });
});
