import { X509Certificate } from 'node:crypto';
import { audit } from '../audit/record.js';
import { announce, CHANGE } from '../farm/changes.js';
import type { Store } from '../store/types.js';
import { certificateFingerprint, parseFingerprint } from './certificate-fingerprint.js';
import { ImsError } from './errors.js';
import { type Integration, NS } from './model.js';

/**
 * Adds a certificate to an integration (certificate rotation): JWTs signed with either key are
 * accepted until the old certificate is removed. The certificate must hold an RSA key and be
 * currently valid. Answers how many certificates the integration has now, and the new one's
 * fingerprint (what {@link removeCertificate} takes).
 */
export async function addCertificate(
  store: Store,
  clientId: string,
  pem: string | undefined,
): Promise<{ certificates: number; fingerprint: string }> {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem ?? '');
  } catch {
    throw new ImsError('invalid_request', 'certificate must be an X.509 certificate in PEM');
  }
  if (cert.publicKey.asymmetricKeyType !== 'rsa')
    throw new ImsError('invalid_request', 'the certificate must hold an RSA key');
  const now = Date.now();
  if (Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) < now) {
    throw new ImsError('invalid_request', 'the certificate is not currently valid');
  }
  const count = await store.transaction(async (tx) => {
    const integration = (await tx.getRecord(NS.integration, clientId))?.value as unknown as
      | Integration
      | undefined;
    if (!integration || integration.revoked)
      throw new ImsError('invalid_client', `no integration ${clientId}`, 404);
    const certificates = [
      ...new Set([...integration.certificates, cert.toString().replace(/\r?\n/g, '\r\n')]),
    ];
    await tx.putRecord(NS.integration, clientId, { ...integration, certificates } as never);
    return certificates.length;
  });
  // IMS processes drop the client they cached: this one before this returns, the others when the
  // event arrives (client-cache.ts).
  await announce(store, CHANGE.integration, clientId);
  const fingerprint = certificateFingerprint(cert);
  await audit({
    type: 'certificate.added',
    target: clientId,
    details: { fingerprint, certificates: count },
  });
  return { certificates: count, fingerprint };
}

/**
 * Removes a certificate (after rotation), named by its SHA-256 fingerprint in any of the forms
 * {@link parseFingerprint} takes; an integration keeps at least one.
 */
export async function removeCertificate(
  store: Store,
  clientId: string,
  fingerprintText: string,
): Promise<number> {
  const fingerprint = parseFingerprint(fingerprintText);
  const count = await store.transaction(async (tx) => {
    const integration = (await tx.getRecord(NS.integration, clientId))?.value as unknown as
      | Integration
      | undefined;
    if (!integration) throw new ImsError('invalid_client', `no integration ${clientId}`, 404);
    const certificates = integration.certificates.filter(
      (pem) => certificateFingerprint(pem) !== fingerprint,
    );
    if (certificates.length === integration.certificates.length)
      throw new ImsError('invalid_request', 'no such certificate', 404);
    if (certificates.length === 0)
      throw new ImsError('conflict', 'an integration keeps at least one certificate', 409);
    await tx.putRecord(NS.integration, clientId, { ...integration, certificates } as never);
    return certificates.length;
  });
  // JWTs signed with the removed key are refused here at once, on other IMS processes when the
  // event arrives (client-cache.ts).
  await announce(store, CHANGE.integration, clientId);
  await audit({
    type: 'certificate.removed',
    target: clientId,
    details: { fingerprint, certificates: count },
  });
  return count;
}
