import { createCipheriv, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { CryptoError } from '../../src/crypto/errors.js';
import { generateKeyVersion, type Keyring, makeKeySet } from '../../src/crypto/keyring.js';
import { protect } from '../../src/crypto/protect.js';
import { unprotect } from '../../src/crypto/unprotect.js';
import { anyText, b64u, campaign, mutate } from './campaign.js';

// Protected values of both formats: latchkey's `{lk1.<kid>.<data>}` (AES-256-GCM) and AEM's
// legacy `{hex}` (AES-128-CBC, no MAC). Every refusal must be a CryptoError; a latchkey value must
// open only as it was sealed, in the one spelling protect wrote.

const old = generateKeyVersion('master');
const keyring: Keyring = {
  master: makeKeySet(generateKeyVersion('master'), [old]),
  hmac: makeKeySet(generateKeyVersion('hmac')),
  aemMaster: randomBytes(16),
};
const oldOnly: Keyring = { ...keyring, master: makeKeySet(old) };

const sealed = new Map<string, string>();
for (const text of ['client-secret', '', 'é'.repeat(40), 'x'.repeat(1000)]) {
  sealed.set(protect(keyring, text), text);
  sealed.set(protect(oldOnly, text), text);
}

function aemProtect(text: string): string {
  const iv = randomBytes(16);
  const c = createCipheriv('aes-128-cbc', keyring.aemMaster!, iv);
  return `{${Buffer.concat([iv, c.update(text, 'utf8'), c.final()]).toString('hex')}}`;
}
const aemSealed = new Map<string, string>();
for (const text of ['client-secret', '', 'ü'.repeat(17)]) aemSealed.set(aemProtect(text), text);

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Flips one low bit of the last base64url character before the closing brace. */
function respell(value: string, bit: number): string {
  const i = value.length - 2;
  const c = B64URL[B64URL.indexOf(value[i]!) ^ (1 << bit)]!;
  return `${value.slice(0, i)}${c}}`;
}

const typed = (err: unknown) => err instanceof CryptoError;

describe('protected values', () => {
  it('latchkey {lk1…}: tampered, re-keyed and garbage values never open', async ({ task }) => {
    const values = [...sealed.keys()];
    const input = fc.oneof(
      fc.constantFrom(...values).chain(mutate),
      fc.constantFrom(...values),
      // Data sealed under another key, or random data, under a real key id.
      fc
        .tuple(fc.constantFrom(keyring.master.primary.id, old.id), fc.uint8Array({ maxLength: 80 }))
        .map(([kid, data]) => `{lk1.${kid}.${b64u(data)}}`),
      // The format tag or key id of another version swapped in.
      fc
        .constantFrom(...values)
        .map((v) =>
          v.includes(old.id)
            ? v.replace(old.id, keyring.master.primary.id)
            : v.replace(keyring.master.primary.id, old.id),
        ),
      // The same bytes spelled otherwise: other values in the unused bits of the last character.
      fc.tuple(fc.constantFrom(...values), fc.nat({ max: 3 })).map(([v, bit]) => respell(v, bit)),
      anyText.map((t) => `{lk1.${t}}`),
      anyText,
    );
    await campaign(
      task,
      'protected value lk1',
      input,
      (value) => {
        let text: string;
        try {
          text = unprotect(keyring, value);
        } catch (err) {
          if (typed(err)) return 'refused';
          throw err;
        }
        return sealed.get(value) === text ? 'accepted' : 'forgery';
      },
      { sample: 400, full: 30_000 },
    );
  });

  it('AEM legacy {hex}: damaged values are refused or open, never a crash', async ({ task }) => {
    // AEM's format has no MAC: a changed IV or block may still decrypt (to other text), which
    // is why latchkey only reads it to re-seal it (keys rewrap). What must hold: a CryptoError
    // or a string, whatever the input, and one answer (tampered) for bad padding and bad text.
    const values = [...aemSealed.keys()];
    const input = fc.oneof(
      fc.constantFrom(...values).chain(mutate),
      fc.constantFrom(...values),
      fc
        .uint8Array({ minLength: 32, maxLength: 96 })
        .filter((b) => b.length % 16 === 0)
        .map((b) => `{${Buffer.from(b).toString('hex')}}`),
      anyText.map((t) => `{${t}}`),
    );
    await campaign(
      task,
      'protected value AEM legacy',
      input,
      (value) => {
        try {
          const text = unprotect(keyring, value);
          return typeof text === 'string' ? 'accepted' : 'crash';
        } catch (err) {
          if (typed(err) && ['tampered', 'malformed_protected_value'].includes(err.code))
            return 'refused';
          throw err;
        }
      },
      { sample: 300, full: 10_000 },
    );
  });
});
