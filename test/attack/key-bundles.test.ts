import { createCipheriv, randomBytes, scryptSync } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, it } from 'vitest';
import { type BundleContent, decodeBundle, encodeBundle } from '../../src/crypto/bundle.js';
import { CryptoError } from '../../src/crypto/errors.js';
import { anyText, campaign, mutate } from './campaign.js';

// Key bundles (`keys export` / `keys import`), plain and sealed with a passphrase: a damaged or
// edited bundle is refused with invalid_bundle, never imported with other keys than exported;
// crafted key-derivation parameters cannot make the import run for hours or exhaust memory.

const content: BundleContent = {
  keys: {
    master: [randomBytes(32), randomBytes(32)],
    hmac: [randomBytes(32)],
  },
  aemMaster: randomBytes(16),
};
const PASS = 'correct horse';
let plain: string;
let sealedCheap: string;

/** A sealed bundle as export writes it, but with cheap scrypt parameters (ln 10) for volume. */
function sealCheap(text: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = scryptSync(PASS.normalize('NFC'), salt, 32, { N: 1024, r: 8, p: 1 });
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from('latchkey-keys/1', 'ascii'));
  const data = Buffer.concat([c.update(text, 'utf8'), c.final(), c.getAuthTag()]);
  return `${JSON.stringify({
    format: 'latchkey-keys',
    version: 1,
    sealed: {
      kdf: 'scrypt',
      ln: 10,
      r: 8,
      p: 1,
      salt: salt.toString('base64'),
      iv: iv.toString('base64'),
      data: data.toString('base64'),
    },
  })}\n`;
}

beforeAll(async () => {
  plain = await encodeBundle(content);
  sealedCheap = sealCheap(plain.trim());
});

const same = (a: BundleContent) =>
  JSON.stringify(a.keys) === JSON.stringify(content.keys) &&
  a.aemMaster?.equals(content.aemMaster!) === true;

/** Parameter edits of the sealed part, most of them far beyond what export writes. */
const kdfEdit = fc.constantFrom<Record<string, unknown>>(
  {},
  { ln: 22, r: 32, p: 16 },
  { ln: 22 },
  { ln: 20, r: 16, p: 4 },
  { r: 32 },
  { p: 16 },
  { ln: 9 },
  { ln: 10.5 },
  { ln: '17' },
  { kdf: 'pbkdf2' },
  { salt: 7 },
  { iv: '' },
  { data: 'AAAA' },
  { data: null },
);

describe('key bundles', () => {
  it('plain and sealed bundles: damaged ones are refused, none imports other keys', async ({
    task,
  }) => {
    const input = fc.oneof(
      fc.constant(() => plain).chain((f) => mutate(f())),
      fc.constant(() => sealedCheap).chain((f) => mutate(f())),
      fc.constant(() => plain),
      fc.constant(() => sealedCheap).map((f) => f()),
      kdfEdit.map((edit) => {
        const outer = JSON.parse(sealedCheap);
        outer.sealed = { ...outer.sealed, ...edit };
        return JSON.stringify(outer);
      }),
      // The keys edited and the checksum left, or recomputed over the wrong fields.
      fc.constantFrom('master', 'hmac').map((kind) => {
        const b = JSON.parse(plain);
        b.keys[kind] = [randomBytes(32).toString('base64')];
        return JSON.stringify(b);
      }),
      anyText,
    );
    await campaign(
      task,
      'key bundles',
      input.map((v) => (typeof v === 'function' ? v() : v)),
      async (text) => {
        try {
          const decoded = await decodeBundle(text, PASS);
          return same(decoded) ? 'accepted' : 'forgery';
        } catch (err) {
          if (err instanceof CryptoError && err.code === 'invalid_bundle') return 'refused';
          throw err;
        }
      },
      { sample: 150, full: 3_000, hangMs: 5_000 },
    );
  });
});
