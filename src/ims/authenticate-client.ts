import { createHash, timingSafeEqual } from 'node:crypto';
import type { StoreOps } from '../store/types.js';
import { ImsError } from './errors.js';
import { type Integration, NS } from './model.js';

function secretMatches(secret: string, stored: string): boolean {
  const [, salt, hash] = stored.split(':');
  const expected = Buffer.from(hash ?? '', 'base64url');
  const actual = createHash('sha256')
    .update(Buffer.from(salt ?? '', 'base64url'))
    .update(secret)
    .digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The integration a client id and secret name, or IMS's `invalid_client` errors. */
export async function authenticateClient(
  store: StoreOps,
  clientId: string | undefined,
  clientSecret: string | undefined,
): Promise<Integration> {
  if (!clientId) throw new ImsError('invalid_client', 'invalid client_id parameter');
  const integration = (await store.getRecord(NS.integration, clientId))?.value as unknown as
    | Integration
    | undefined;
  if (!integration || integration.revoked)
    throw new ImsError('invalid_client', 'invalid client_id parameter');
  if (!clientSecret || !secretMatches(clientSecret, integration.secretHash)) {
    throw new ImsError('invalid_client', 'invalid client_secret parameter');
  }
  return integration;
}
