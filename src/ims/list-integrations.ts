import { X509Certificate } from 'node:crypto';
import type { Store } from '../store/types.js';
import { certificateFingerprint } from './certificate-fingerprint.js';
import { type Integration, NS } from './model.js';

/** An integration as the Developer Console and `credentials list` show it: no secret. */
export interface IntegrationSummary {
  readonly clientId: string;
  readonly orgId: string;
  readonly environmentId: string;
  readonly technicalAccountId: string;
  readonly metascopes: readonly string[];
  readonly createdAt: string;
  readonly revoked: boolean;
  readonly certificates: readonly {
    /** SHA-256 fingerprint, 64 lowercase hex digits: what certificate removal takes. */
    readonly fingerprint: string;
    readonly subject: string;
    readonly notBefore: string;
    readonly notAfter: string;
  }[];
}

/** The integrations of an environment (or of all), oldest first, with their certificates. */
export async function listIntegrations(
  store: Store,
  options: { environment?: string } = {},
): Promise<IntegrationSummary[]> {
  return (await store.listRecords(NS.integration))
    .map((r) => r.value as unknown as Integration)
    .filter((i) => options.environment === undefined || i.environmentId === options.environment)
    .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0))
    .map((i) => ({
      clientId: i.clientId,
      orgId: i.orgId,
      environmentId: i.environmentId,
      technicalAccountId: i.technicalAccountId,
      metascopes: i.metascopes,
      createdAt: i.createdAt,
      revoked: i.revoked,
      certificates: i.certificates.map((pem) => {
        const cert = new X509Certificate(pem);
        return {
          fingerprint: certificateFingerprint(cert),
          subject: cert.subject,
          notBefore: new Date(cert.validFrom).toISOString(),
          notAfter: new Date(cert.validTo).toISOString(),
        };
      }),
    }));
}
