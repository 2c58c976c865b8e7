import { X509Certificate } from 'node:crypto';
import { ImsError } from './errors.js';

/**
 * A certificate's SHA-256 fingerprint as latchkey shows it everywhere (`credentials list`, the
 * add-certificate answer, the Developer Console, the audit log): 64 lowercase hex digits, what
 * `sha256sum` prints for the certificate's DER bytes.
 *
 * @example
 * ```ts
 * certificateFingerprint(pem) // '3f2a9c0d…'
 * ```
 */
export function certificateFingerprint(cert: string | X509Certificate): string {
  const x509 = typeof cert === 'string' ? new X509Certificate(cert) : cert;
  return x509.fingerprint256.replaceAll(':', '').toLowerCase();
}

/**
 * A fingerprint as a person may give it: latchkey's form, or with colons between the bytes
 * (`openssl x509 -fingerprint -sha256` and Node print `AB:CD:…`), in either case. Anything else
 * is a `400 invalid_request` that says what is expected.
 */
export function parseFingerprint(text: string): string {
  const t = text.trim().toLowerCase();
  if (/^[0-9a-f]{64}$/.test(t)) return t;
  if (/^[0-9a-f]{2}(:[0-9a-f]{2}){31}$/.test(t)) return t.replaceAll(':', '');
  throw new ImsError(
    'invalid_request',
    'the fingerprint must be a certificate’s SHA-256: 64 hex digits, with or without colons',
  );
}
