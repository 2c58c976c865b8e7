import { X509Certificate } from 'node:crypto';
import { audit } from '../audit/record.js';
import type { Store } from '../store/types.js';
import { ImsError } from './errors.js';
import { type Integration, NS } from './model.js';

/**
 * Adds a certificate to an integration (certificate rotation): JWTs signed with either key are
 * accepted until the old certificate is removed. The certificate must hold an RSA key and be
 * currently valid.
 */
export async function addCertificate(
  store: Store,
  clientId: string,
  pem: string | undefined,
): Promise<number> {
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
  await audit({
    type: 'certificate.added',
    target: clientId,
    details: { fingerprint: cert.fingerprint256, certificates: count },
  });
  return count;
}

/** Removes a certificate (after rotation); an integration keeps at least one. */
export async function removeCertificate(
  store: Store,
  clientId: string,
  fingerprint256: string,
): Promise<number> {
  const count = await store.transaction(async (tx) => {
    const integration = (await tx.getRecord(NS.integration, clientId))?.value as unknown as
      | Integration
      | undefined;
    if (!integration) throw new ImsError('invalid_client', `no integration ${clientId}`, 404);
    const certificates = integration.certificates.filter(
      (pem) => new X509Certificate(pem).fingerprint256 !== fingerprint256,
    );
    if (certificates.length === integration.certificates.length)
      throw new ImsError('invalid_request', 'no such certificate', 404);
    if (certificates.length === 0)
      throw new ImsError('invalid_request', 'an integration keeps at least one certificate');
    await tx.putRecord(NS.integration, clientId, { ...integration, certificates } as never);
    return certificates.length;
  });
  await audit({
    type: 'certificate.removed',
    target: clientId,
    details: { fingerprint: fingerprint256, certificates: count },
  });
  return count;
}
