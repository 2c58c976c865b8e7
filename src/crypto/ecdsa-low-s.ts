/**
 * ECDSA signatures are malleable: if (r, s) is a valid P-256 signature, so is (r, n - s), a
 * second text for the same token that `node:crypto` and jose both accept. latchkey's IMS signs
 * ES256 access tokens with the low s only (s ≤ n/2, as Bitcoin's BIP 62 and libsecp256k1
 * require), and every verifier refuses the high-s twin, so that a token has one text: caches and
 * anything else keyed on it cannot be sidestepped by a re-signed copy (revocation keys on `jti`).
 */

/** The order of the P-256 group. */
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF = N >> 1n;

const toBig = (bytes: Buffer) => BigInt(`0x${bytes.toString('hex') || '0'}`);

/** Whether a 64-byte IEEE P1363 (r ‖ s) P-256 signature has the low s. */
export function isLowS(signature: Buffer): boolean {
  return signature.length === 64 && toBig(signature.subarray(32)) <= HALF;
}

/** The low-s form of a 64-byte IEEE P1363 P-256 signature (itself if it has it already). */
export function toLowS(signature: Buffer): Buffer {
  const s = toBig(signature.subarray(32));
  if (signature.length !== 64 || s <= HALF) return signature;
  const low = Buffer.from((N - s).toString(16).padStart(64, '0'), 'hex');
  return Buffer.concat([signature.subarray(0, 32), low]);
}

/** A compact ES256 JWS with its signature in the low-s form. */
export function lowSCompactJws(token: string): string {
  const dot = token.lastIndexOf('.');
  const signature = Buffer.from(token.slice(dot + 1), 'base64url');
  return `${token.slice(0, dot + 1)}${toLowS(signature).toString('base64url')}`;
}
