import { createPrivateKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ServiceCredentials } from '../../src/ims/credentials.js';

/**
 * Exchanges a fresh service-credentials JWT (unique `jti`, signed with `privateKey`, by default the
 * credentials' own) at `url`'s `/ims/exchange/jwt`, as Adobe's clients do, over HTTP.
 */
export async function exchangeAt(
  url: string,
  credentials: ServiceCredentials,
  privateKey: string = credentials.integration.privateKey,
): Promise<{ status: number; body: Record<string, string> }> {
  const i = credentials.integration;
  const base = `http://${i.imsEndpoint}`;
  const jwt = await new SignJWT({
    [`${base}/s/ent_aem_cloud_api`]: true,
    iss: i.org,
    sub: i.id,
    aud: `${base}/c/${i.technicalAccount.clientId}`,
  })
    .setProtectedHeader({ alg: 'RS256' })
    .setExpirationTime('5m')
    .setJti(randomUUID())
    .sign(createPrivateKey(privateKey));
  const res = await fetch(`${url}/ims/exchange/jwt`, {
    method: 'POST',
    body: new URLSearchParams({
      client_id: i.technicalAccount.clientId,
      client_secret: i.technicalAccount.clientSecret,
      jwt_token: jwt,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

/** `POST /ims/token/v3` with client_credentials and HTTP Basic (client_secret_basic). */
export async function clientCredentialsAt(
  url: string,
  credentials: ServiceCredentials,
): Promise<{ status: number; body: Record<string, string> }> {
  const { clientId, clientSecret } = credentials.integration.technicalAccount;
  const res = await fetch(`${url}/ims/token/v3`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}
