import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt } from 'node:crypto';
import { CryptoError } from './errors.js';
import { KEY_KINDS, type KeyKind } from './key-id.js';
import type { StoredKeys } from './storage/types.js';

/**
 * The key bundle that `keys export` writes and `keys import` reads: every version of both keys
 * (primary first) and the imported AEM master key, with a SHA-256 over the content. With a
 * passphrase, the whole content is sealed with AES-256-GCM under a key derived by scrypt
 * (ln=17, r=8, p=1), so that the file is safe to carry.
 *
 *     {"format":"latchkey-keys","version":1,"exportedAt":"…","keys":{"master":["b64",…],"hmac":[…]},
 *      "aemMaster":"b64"|null,"sha256":"hex"}
 *     {"format":"latchkey-keys","version":1,"sealed":{"kdf":"scrypt","ln":17,"r":8,"p":1,
 *      "salt":"b64","iv":"b64","data":"b64"}}
 */
export interface BundleContent {
  readonly keys: StoredKeys;
  readonly aemMaster: Buffer | undefined;
}

const FORMAT = 'latchkey-keys';
const AAD = Buffer.from(`${FORMAT}/1`, 'ascii');
const KDF = { ln: 17, r: 8, p: 1 };
/**
 * The most scrypt work (128 · N · r · p bytes' worth) a bundle may ask for: four times what
 * export writes. The parameters come from the file, so without a bound a crafted bundle could ask
 * for gigabytes and hours (ln 22, r 32, p 16) before the passphrase is even checked.
 */
const MAX_KDF_WORK = 4 * 128 * 2 ** KDF.ln * KDF.r * KDF.p;

function invalid(message: string): CryptoError {
  return new CryptoError('invalid_bundle', message);
}

function digest(keys: Record<KeyKind, string[]>, aemMaster: string | null): string {
  return createHash('sha256').update(JSON.stringify({ keys, aemMaster })).digest('hex');
}

function derive(
  passphrase: string,
  salt: Buffer,
  ln: number,
  r: number,
  p: number,
): Promise<Buffer> {
  const N = 2 ** ln;
  return new Promise((resolve, reject) =>
    scrypt(passphrase.normalize('NFC'), salt, 32, { N, r, p, maxmem: 256 * N * r }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function encodeBundle(content: BundleContent, passphrase?: string): Promise<string> {
  const keys = {
    master: content.keys.master.map((k) => k.toString('base64')),
    hmac: content.keys.hmac.map((k) => k.toString('base64')),
  };
  const aemMaster = content.aemMaster?.toString('base64') ?? null;
  const plain = JSON.stringify({
    format: FORMAT,
    version: 1,
    exportedAt: new Date().toISOString(),
    keys,
    aemMaster,
    sha256: digest(keys, aemMaster),
  });
  if (passphrase === undefined) return `${plain}\n`;
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv(
    'aes-256-gcm',
    await derive(passphrase, salt, KDF.ln, KDF.r, KDF.p),
    iv,
  );
  cipher.setAAD(AAD);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  const sealed = {
    kdf: 'scrypt',
    ...KDF,
    salt: salt.toString('base64'),
    iv: iv.toString('base64'),
    data: data.toString('base64'),
  };
  return `${JSON.stringify({ format: FORMAT, version: 1, sealed })}\n`;
}

export async function decodeBundle(text: string, passphrase?: string): Promise<BundleContent> {
  let outer: Record<string, unknown>;
  try {
    outer = JSON.parse(text);
  } catch {
    throw invalid('not a key bundle: not JSON');
  }
  if (outer?.['format'] !== FORMAT || outer['version'] !== 1)
    throw invalid('not a latchkey key bundle (version 1)');
  let inner = outer;
  const sealed = outer['sealed'] as Record<string, unknown> | undefined;
  if (sealed) {
    if (passphrase === undefined)
      throw invalid(
        'this bundle is sealed: give its passphrase (--passphrase-file or LATCHKEY_KEYS_PASSPHRASE)',
      );
    const { ln, r, p, salt, iv, data } = sealed as {
      ln: number;
      r: number;
      p: number;
      salt: string;
      iv: string;
      data: string;
    };
    if (
      sealed['kdf'] !== 'scrypt' ||
      ![ln, r, p].every(Number.isInteger) ||
      ln < 10 ||
      ln > 22 ||
      r < 1 ||
      r > 32 ||
      p < 1 ||
      p > 16 ||
      128 * 2 ** ln * r * p > MAX_KDF_WORK
    ) {
      throw invalid('unsupported key derivation parameters');
    }
    const bytes = Buffer.from(String(data), 'base64');
    if (bytes.length < 17) throw invalid('sealed bundle is truncated');
    try {
      const decipher = createDecipheriv(
        'aes-256-gcm',
        await derive(passphrase, Buffer.from(String(salt), 'base64'), ln, r, p),
        Buffer.from(String(iv), 'base64'),
      );
      decipher.setAAD(AAD);
      decipher.setAuthTag(bytes.subarray(bytes.length - 16));
      inner = JSON.parse(
        Buffer.concat([
          decipher.update(bytes.subarray(0, bytes.length - 16)),
          decipher.final(),
        ]).toString('utf8'),
      );
    } catch {
      throw invalid('wrong passphrase, or the bundle was modified');
    }
  }
  const keys = inner['keys'] as Record<KeyKind, unknown> | undefined;
  const aemMaster = (inner['aemMaster'] ?? null) as unknown;
  if (
    !keys ||
    !KEY_KINDS.every(
      (k) => Array.isArray(keys[k]) && (keys[k] as unknown[]).every((v) => typeof v === 'string'),
    )
  ) {
    throw invalid('bundle has no valid keys section');
  }
  if (aemMaster !== null && typeof aemMaster !== 'string')
    throw invalid('bundle aemMaster must be a string or null');
  if (digest(keys as Record<KeyKind, string[]>, aemMaster) !== inner['sha256']) {
    throw invalid('bundle checksum mismatch: the file is damaged or was edited');
  }
  const decode = (list: string[]) => list.map((b) => Buffer.from(b, 'base64'));
  return {
    keys: { master: decode(keys.master as string[]), hmac: decode(keys.hmac as string[]) },
    aemMaster: aemMaster === null ? undefined : Buffer.from(aemMaster, 'base64'),
  };
}
