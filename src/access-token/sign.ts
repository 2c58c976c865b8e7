import { type KeyObject, sign } from 'node:crypto';
import { toLowS } from '../crypto/ecdsa-low-s.js';
import { ACCESS_TOKEN_TYP, type AccessTokenAlgorithm } from './types.js';

/** A key access tokens are signed with: its `kid`, its one algorithm, its private key. */
export interface TokenSigningKey {
  readonly kid: string;
  readonly alg: AccessTokenAlgorithm;
  readonly privateKey: KeyObject;
}

/** Encoded headers by key: the same bytes for every token a key signs. */
const headers = new WeakMap<TokenSigningKey, string>();

function headerOf(key: TokenSigningKey): string {
  let header = headers.get(key);
  if (header === undefined) {
    header = Buffer.from(
      JSON.stringify({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYP }),
    ).toString('base64url');
    headers.set(key, header);
  }
  return header;
}

/**
 * Signs `payload` as a compact JWS with `node:crypto` (header `{alg, kid, typ: "JWT"}`). ES256
 * signatures are in their low-s form (one text per token, see crypto/ecdsa-low-s.ts).
 */
export function signToken(
  key: TokenSigningKey,
  payload: Readonly<Record<string, unknown>>,
): string {
  const input = `${headerOf(key)}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const signature =
    key.alg === 'ES256'
      ? toLowS(
          sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' }),
        )
      : sign('sha256', Buffer.from(input), key.privateKey);
  return `${input}.${signature.toString('base64url')}`;
}
