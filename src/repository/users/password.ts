import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Password hashes: scrypt (memory-hard), r=8, p=1, 16-byte salt, 32-byte key, written as
 * `$scrypt$ln=<log2 N>,r=8,p=1$<salt b64url>$<hash b64url>`. The parameters travel with the hash,
 * so raising the configured cost never breaks existing passwords.
 */
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, ln: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** ln;
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFC'),
      salt,
      KEY_LENGTH,
      { N, r, p, maxmem: 256 * N * r },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

export async function hashPassword(password: string, ln: number): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, ln, 8, 1);
  return `$scrypt$ln=${ln},r=8,p=1$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

const FORMAT =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

/** Constant-time check of `password` against a stored hash; a malformed hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = FORMAT.exec(stored);
  if (!m) return false;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (ln < 1 || ln > 22 || r < 1 || p < 1) return false;
  const expected = Buffer.from(m[5]!, 'base64url');
  const actual = await derive(password, Buffer.from(m[4]!, 'base64url'), ln, r, p);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

const dummies = new Map<number, Promise<string>>();

/**
 * Spends the same time as checking a real password, for logins with an unknown user name, so
 * that response times do not tell which user names exist.
 */
export async function burnPasswordCheck(password: string, ln: number): Promise<void> {
  let dummy = dummies.get(ln);
  if (!dummy) {
    dummy = hashPassword(randomBytes(16).toString('hex'), ln);
    dummies.set(ln, dummy);
  }
  await verifyPassword(password, await dummy);
}
