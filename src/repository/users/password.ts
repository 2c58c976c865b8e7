import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { LatchkeyError } from '../../errors.js';

/**
 * Password hashes: scrypt (memory-hard), r=8, p=1, 16-byte salt, 32-byte key, written as
 * `$scrypt$ln=<log2 N>,r=8,p=1$<salt b64url>$<hash b64url>`. The parameters travel with the hash,
 * so raising the configured cost never breaks existing passwords.
 */
const KEY_LENGTH = 32;

/**
 * Hashing is a bounded resource: each scrypt at cost 15 holds 32 MB and a thread of libuv's pool
 * (which also runs the IMS's token signing and file I/O) for tens of milliseconds. At most
 * `maxConcurrent` run at once in this process, at most `maxQueued` wait; beyond that a check is
 * refused at once with 503 (`Retry-After: 1`) instead of piling up behind the others. The bound
 * is process-wide: `latchkey start` runs the author and the IMS in one process and one pool.
 */
class HashingGate {
  maxConcurrent = 2;
  maxQueued = 16;
  #running = 0;
  readonly #queue: (() => void)[] = [];

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.maxConcurrent) {
      if (this.#queue.length >= this.maxQueued) throw new HashingBusyError();
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await work();
    } finally {
      const next = this.#queue.shift();
      // The place passes straight to the next waiter, so `#running` never exceeds the bound.
      if (next) next();
      else this.#running--;
    }
  }
}

/** 503: too many password checks at once in this process; retry shortly. */
export class HashingBusyError extends LatchkeyError {
  override readonly name = 'HashingBusyError';
  constructor() {
    super(
      'temporarily_unavailable',
      'too many password checks at once; retry shortly (use a login token for frequent requests)',
      503,
      { 'retry-after': '1' },
    );
  }
}

const gate = new HashingGate();

/** Sets the process-wide bound on concurrent password hashing (`security.maxConcurrentHashes`). */
export function limitHashing(options: { maxConcurrent: number; maxQueued: number }): void {
  gate.maxConcurrent = options.maxConcurrent;
  gate.maxQueued = options.maxQueued;
}

function derive(password: string, salt: Buffer, ln: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** ln;
  return gate.run(
    () =>
      new Promise((resolve, reject) => {
        // Asynchronous: the work runs on libuv's pool, the event loop stays free.
        scrypt(
          password.normalize('NFC'),
          salt,
          KEY_LENGTH,
          { N, r, p, maxmem: 256 * N * r },
          (err, key) => (err ? reject(err) : resolve(key)),
        );
      }),
  );
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

/** The cost (log2 N) a stored hash was made with, or `undefined` for a malformed one. */
export function hashCost(stored: string): number | undefined {
  const m = FORMAT.exec(stored);
  return m ? Number(m[1]) : undefined;
}

const dummies = new Map<number, Promise<string>>();

/**
 * Spends the same time as checking a real password, for logins with an unknown user name, so
 * that response times do not tell which user names exist.
 */
export async function burnPasswordCheck(password: string, ln: number): Promise<void> {
  let dummy = dummies.get(ln);
  if (!dummy) {
    // Made outside the gate's accounting of the request: a fixed value per cost, computed once.
    dummy = Promise.resolve(
      `$scrypt$ln=${ln},r=8,p=1$${randomBytes(16).toString('base64url')}$${randomBytes(KEY_LENGTH).toString('base64url')}`,
    );
    dummies.set(ln, dummy);
  }
  await verifyPassword(password, await dummy);
}
