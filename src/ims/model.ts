import type { Json, StoreOps } from '../store/types.js';

/**
 * The IMS model, kept as records in the IMS store (see store/types.ts).
 *
 * - `ims.org` / id: an organization (`<24 hex>@AdobeOrg`)
 * - `ims.environment` / `p<program>-e<environment>`: a program's environment (author and publish tiers)
 * - `ims.integration` / client id: an integration with its technical account, client secret hash
 *   and certificates (several while one is rotated)
 * - `ims.jti` / `<client id>:<jti>`: exchanged JWT ids, until the JWT expires (replay cache)
 * - `ims.signing-key` / kid: access-token signing keys, private part sealed with the master key
 */
export const NS = {
  org: 'ims.org',
  environment: 'ims.environment',
  integration: 'ims.integration',
  jti: 'ims.jti',
  signingKey: 'ims.signing-key',
  /** `publicUrl`: where the deployment's IMS is reached (see public-url.ts). */
  meta: 'ims.meta',
} as const;

export interface Organization {
  readonly id: string;
  readonly name: string;
}

export interface Environment {
  /** `p1-e1` */
  readonly id: string;
  readonly program: number;
  readonly environment: number;
  readonly orgId: string;
}

export interface Integration {
  /** `cm-p<program>-e<environment>-integration[-<n>]` */
  readonly clientId: string;
  readonly orgId: string;
  readonly environmentId: string;
  /** `<hex>@techacct.adobe.com` */
  readonly technicalAccountId: string;
  readonly email: string;
  readonly metascopes: readonly string[];
  /** `sha256:<salt>:<hash>` of the client secret; the secret itself is never stored. */
  readonly secretHash: string;
  /** PEM certificates whose keys may sign exchange JWTs. */
  readonly certificates: readonly string[];
  readonly revoked: boolean;
  readonly createdAt: string;
}

/** The metascope new integrations get: AEM as a Cloud Service's API. */
export const DEFAULT_METASCOPE = 'ent_aem_cloud_api';

export const ENVIRONMENT_ID = /^p(\d{1,9})-e(\d{1,9})$/;

export async function getRecordValue<T>(
  store: StoreOps,
  ns: string,
  key: string,
): Promise<T | undefined> {
  return (await store.getRecord(ns, key))?.value as T | undefined;
}

export async function putValue(
  store: StoreOps,
  ns: string,
  key: string,
  value: unknown,
): Promise<void> {
  await store.putRecord(ns, key, value as Json);
}
