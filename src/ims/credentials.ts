import 'reflect-metadata';
import { createHash, createPrivateKey, randomBytes, randomUUID, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { audit } from '../audit/record.js';
import type { Json, Store } from '../store/types.js';
import { certificateFingerprint } from './certificate-fingerprint.js';
import { ImsError } from './errors.js';
import {
  DEFAULT_METASCOPE,
  ENVIRONMENT_ID,
  type Environment,
  type Integration,
  NS,
} from './model.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** Adobe's service credentials JSON, exactly as the Developer Console hands it out. */
export interface ServiceCredentials {
  readonly ok: true;
  readonly integration: {
    readonly imsEndpoint: string;
    readonly metascopes: string;
    readonly technicalAccount: { readonly clientId: string; readonly clientSecret: string };
    readonly email: string;
    readonly id: string;
    readonly org: string;
    readonly privateKey: string;
    readonly publicKey: string;
  };
  readonly statusCode: 200;
}

const crlf = (pem: string) => pem.replace(/\r?\n/g, '\r\n');

export function hashSecret(secret: string, salt = randomBytes(16)): string {
  return `sha256:${salt.toString('base64url')}:${createHash('sha256').update(salt).update(secret).digest('base64url')}`;
}

/**
 * Creates an integration for an environment and returns its service credentials: an RSA-2048 key
 * pair (PKCS#1 PEM, `\r\n` line ends), a self-signed certificate with CN = client id valid one
 * year, and a client secret of 32 random bytes. Only the certificate and a hash of the secret are
 * kept: the private key and the secret are shown this once.
 */
export async function createCredentials(
  store: Store,
  options: { environment: string; imsEndpoint: string; metascopes?: readonly string[] },
): Promise<ServiceCredentials> {
  const m = ENVIRONMENT_ID.exec(options.environment);
  if (!m) throw new ImsError('invalid_request', 'environment must look like p1-e1');
  const env = (await store.getRecord(NS.environment, options.environment))?.value as unknown as
    | Environment
    | undefined;
  if (!env) throw new ImsError('invalid_request', `no environment ${options.environment}`, 404);
  const alg = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const secret = randomBytes(32).toString('base64url');
  const technicalAccountId = `${randomBytes(12).toString('hex').toUpperCase()}@techacct.adobe.com`;
  const email = `${randomUUID()}@techacct.adobe.com`;
  const metascopes = [...(options.metascopes ?? [DEFAULT_METASCOPE])];

  // Client ids: cm-p1-e1-integration, then -2, -3… for further integrations of one environment.
  const base = `cm-p${m[1]}-e${m[2]}-integration`;
  let clientId = base;
  for (let n = 2; await store.getRecord(NS.integration, clientId); n++) clientId = `${base}-${n}`;

  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'),
    name: `CN=${clientId}`,
    notBefore: new Date(),
    notAfter: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    signingAlgorithm: alg,
    keys: keys as unknown as Parameters<
      typeof x509.X509CertificateGenerator.createSelfSigned
    >[0]['keys'],
  });
  const certificate = crlf(cert.toString('pem'));
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const privateKey = crlf(
    createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })
      .export({ type: 'pkcs1', format: 'pem' })
      .toString(),
  );

  const integration: Integration = {
    clientId,
    orgId: env.orgId,
    environmentId: env.id,
    technicalAccountId,
    email,
    metascopes,
    secretHash: hashSecret(secret),
    certificates: [certificate],
    revoked: false,
    createdAt: new Date().toISOString(),
  };
  if (
    !(await store.insertRecord(NS.integration, clientId, { ...integration } as unknown as Json))
  ) {
    throw new ImsError(
      'invalid_request',
      'another integration was created at the same moment; try again',
      409,
    );
  }
  await audit({
    type: 'credentials.created',
    target: clientId,
    details: {
      environment: options.environment,
      technicalAccount: technicalAccountId,
      fingerprint: certificateFingerprint(certificate),
    },
  });
  return {
    ok: true,
    integration: {
      imsEndpoint: options.imsEndpoint,
      metascopes: metascopes.join(','),
      technicalAccount: { clientId, clientSecret: secret },
      email,
      id: technicalAccountId,
      org: env.orgId,
      privateKey,
      publicKey: certificate,
    },
    statusCode: 200,
  };
}
