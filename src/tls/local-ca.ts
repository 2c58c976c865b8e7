// @peculiar/x509 resolves its ASN.1 parsers through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { createPrivateKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { LatchkeyError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const DAY = 24 * 3600 * 1000;
/** The CA outlives many server certificates: clients trust it once. */
const CA_DAYS = 3650;
/** Server certificates: at most 397 days, as browsers accept. */
const SERVER_DAYS = 397;
/** A server certificate with less than this left is renewed (with the same CA) on start. */
export const RENEW_BEFORE_DAYS = 30;
/** The names the server certificate covers: the loopback addresses latchkey start listens on. */
export const LOCAL_NAMES = { ips: ['127.0.0.1', '::1'], dns: ['localhost'] } as const;

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** The files of a data folder's local TLS: `<data>/tls/`. */
export interface LocalTlsFiles {
  /** The CA certificate: what clients trust (`NODE_EXTRA_CA_CERTS=<data>/tls/ca.crt`). */
  readonly ca: string;
  readonly caKey: string;
  /** The server certificate (for 127.0.0.1, ::1 and localhost) and its key. */
  readonly cert: string;
  readonly key: string;
}

export interface LocalTls extends LocalTlsFiles {
  /** Whether this call created the CA (clients must trust it; before, nothing could). */
  readonly caCreated: boolean;
  /** Why a server certificate was issued now, if one was: `new`, `expiring`, `invalid`. */
  readonly issued: 'new' | 'expiring' | 'invalid' | undefined;
  /** When the server certificate expires. */
  readonly notAfter: Date;
}

export function localTlsFiles(data: string): LocalTlsFiles {
  const dir = join(data, 'tls');
  return {
    ca: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    cert: join(dir, 'server.crt'),
    key: join(dir, 'server.key'),
  };
}

/**
 * Makes sure a data folder has a local certificate authority and a server certificate it issued
 * for 127.0.0.1, ::1 and localhost, under `<data>/tls/` (keys 0600, every file written
 * atomically): creates the CA on the first call, and issues a server certificate when there is
 * none, when it expires within {@link RENEW_BEFORE_DAYS} days, or when it no longer fits (another
 * CA, other names, a key that does not match). The CA is kept, so clients that trust it keep
 * working across renewals.
 *
 * @example
 * ```ts
 * const tls = await ensureLocalTls('./latchkey-data');
 * // serve with tls.cert / tls.key; clients: NODE_EXTRA_CA_CERTS=<tls.ca>
 * ```
 */
export async function ensureLocalTls(data: string, now = new Date()): Promise<LocalTls> {
  const files = localTlsFiles(data);
  mkdirSync(join(data, 'tls'), { recursive: true, mode: 0o700 });
  const ca = await loadOrCreateCa(files, now);
  const current = readServerCertificate(files, ca.certificate, now);
  if (current.ok) {
    return { ...files, caCreated: ca.created, issued: undefined, notAfter: current.notAfter };
  }
  const notAfter = await issueServerCertificate(files, ca, now);
  return { ...files, caCreated: ca.created, issued: current.why, notAfter };
}

interface Ca {
  readonly certificate: X509Certificate;
  readonly pem: string;
  readonly key: CryptoKey;
  readonly created: boolean;
}

async function loadOrCreateCa(files: LocalTlsFiles, now: Date): Promise<Ca> {
  const haveCert = existsSync(files.ca);
  const haveKey = existsSync(files.caKey);
  if (haveCert && haveKey) {
    const pem = readFileSync(files.ca, 'utf8');
    let certificate: X509Certificate;
    let keyPem: string;
    try {
      certificate = new X509Certificate(pem);
      keyPem = readFileSync(files.caKey, 'utf8');
      if (!certificate.checkPrivateKey(createPrivateKey(keyPem))) throw new Error('key mismatch');
    } catch (err) {
      throw brokenCa(files, `${(err as Error).message}`);
    }
    if (new Date(certificate.validTo).getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY) {
      throw brokenCa(files, `it expires on ${new Date(certificate.validTo).toISOString()}`);
    }
    return { certificate, pem, key: await importSigningKey(keyPem), created: false };
  }
  if (haveCert && !haveKey) throw brokenCa(files, `${files.caKey} is missing`);
  // No CA certificate yet (a key alone is the rest of an interrupted creation: nobody can
  // trust a CA whose certificate was never written), so a new one.
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const name = `CN=latchkey local CA (${hostname().slice(0, 40)}, ${now.toISOString().slice(0, 10)})`;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name,
    notBefore: new Date(now.getTime() - 3600_000),
    notAfter: new Date(now.getTime() + CA_DAYS * DAY),
    signingAlgorithm: SIGN,
    keys: keys as unknown as Parameters<
      typeof x509.X509CertificateGenerator.createSelfSigned
    >[0]['keys'],
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
    ],
  });
  const keyPem = pemOf(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const pem = cert.toString('pem');
  // The key first: a crash between the two leaves a key without a certificate, replaced above.
  writeFileAtomic(files.caKey, keyPem, 0o600);
  writeFileAtomic(files.ca, `${pem}\n`, 0o600);
  return { certificate: new X509Certificate(pem), pem, key: keys.privateKey, created: true };
}

function brokenCa(files: LocalTlsFiles, why: string): LatchkeyError {
  return new LatchkeyError(
    'invalid_tls',
    `the local CA in ${join(files.ca, '..')} cannot be used (${why}). Remove that folder to create a new CA on the next start (clients must then trust the new ca.crt), or give a certificate with --tls-cert and --tls-key`,
  );
}

type ServerState =
  | { ok: true; notAfter: Date }
  | { ok: false; why: 'new' | 'expiring' | 'invalid' };

function readServerCertificate(files: LocalTlsFiles, ca: X509Certificate, now: Date): ServerState {
  if (!existsSync(files.cert) || !existsSync(files.key)) return { ok: false, why: 'new' };
  try {
    const cert = new X509Certificate(readFileSync(files.cert, 'utf8'));
    const key = createPrivateKey(readFileSync(files.key, 'utf8'));
    const fits =
      cert.checkIssued(ca) &&
      cert.verify(ca.publicKey) &&
      cert.checkPrivateKey(key) &&
      LOCAL_NAMES.ips.every((ip) => cert.checkIP(ip) !== undefined) &&
      LOCAL_NAMES.dns.every((dns) => cert.checkHost(dns) !== undefined);
    if (!fits) return { ok: false, why: 'invalid' };
    const notAfter = new Date(cert.validTo);
    if (notAfter.getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY) {
      return { ok: false, why: 'expiring' };
    }
    return { ok: true, notAfter };
  } catch {
    return { ok: false, why: 'invalid' };
  }
}

async function issueServerCertificate(files: LocalTlsFiles, ca: Ca, now: Date): Promise<Date> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notAfter = new Date(
    Math.min(now.getTime() + SERVER_DAYS * DAY, new Date(ca.certificate.validTo).getTime()),
  );
  const caCert = new x509.X509Certificate(ca.pem);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=localhost',
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - 3600_000),
    notAfter,
    signingAlgorithm: SIGN,
    publicKey: keys.publicKey as never,
    signingKey: ca.key as never,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...LOCAL_NAMES.dns.map((value) => ({ type: 'dns' as const, value })),
        ...LOCAL_NAMES.ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
      await x509.AuthorityKeyIdentifierExtension.create(caCert as never),
    ],
  });
  writeFileAtomic(files.key, pemOf(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)));
  writeFileAtomic(files.cert, `${cert.toString('pem')}\n`, 0o600);
  return notAfter;
}

async function importSigningKey(pem: string): Promise<CryptoKey> {
  const der = createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, EC, false, ['sign']) as Promise<CryptoKey>;
}

function pemOf(pkcs8: ArrayBuffer): string {
  return createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

/** A positive 16-byte serial number (the top bit clear: DER integers are signed). */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}
