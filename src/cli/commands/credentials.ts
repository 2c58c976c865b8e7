import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ImsError } from '../../ims/errors.js';
import { fail } from '../fail.js';
import { imsFlags, publicUrlOf, withImsStore } from '../ims-store.js';
import { printReport } from '../report.js';

/** A text file the user named, or a one-line usage error saying which and why. */
function readUserFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ImsError(
      'invalid_request',
      `cannot read ${what} from ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/**
 * `latchkey credentials create|list|revoke|exchange|add-certificate|remove-certificate`.
 */
export function credentialsCommands(program: Command) {
  const credentials = program
    .command('credentials')
    .description('service credentials for server-to-server access');
  imsFlags(
    credentials
      .command('create')
      .description(
        'create an integration for an environment and print its service credentials JSON (shown once)',
      )
      .option(
        '--environment <id>',
        'program and environment, e.g. p1-e1 (default: the only one, when the IMS has one)',
      )
      .option('--out <file>', 'write the JSON to this new file (0600) instead of printing it'),
  ).action(async (opts: Record<string, string | undefined>) => {
    try {
      const out = opts['out'];
      if (out !== undefined && existsSync(out)) {
        throw new ImsError('invalid_request', `${out} exists already; choose another --out`);
      }
      const { bootstrapIms } = await import('../../ims/bootstrap.js');
      const { createCredentials } = await import('../../ims/credentials.js');
      const { soleEnvironment } = await import('../../ims/sole-environment.js');
      await withImsStore(opts, async (store, config) => {
        await bootstrapIms(store);
        const json = await createCredentials(store, {
          environment: opts['environment'] ?? (await soleEnvironment(store)),
          imsEndpoint: (await publicUrlOf(store, config)).imsEndpoint,
        });
        const text = `${JSON.stringify(json, null, 2)}\n`;
        if (out === undefined) {
          process.stdout.write(text);
          return;
        }
        // The private key and secret: readable by this user only, as a key file.
        const { writeFileAtomic } = await import('../../fs/atomic-write.js');
        writeFileAtomic(out, text, 0o600);
        process.stdout.write(
          `service credentials of ${json.integration.technicalAccount.clientId} written to ${out} (0600)\n`,
        );
      });
    } catch (err) {
      fail(err);
    }
  });

  imsFlags(
    credentials
      .command('list')
      .description(
        'list the integrations: client id, environment, created, revoked or not, and their certificates (SHA-256 fingerprint, expiry); never a secret',
      )
      .option('--environment <id>', 'only this environment’s, e.g. p1-e1')
      .option('--json', 'print JSON'),
  ).action(async (opts: Record<string, string | undefined>) => {
    try {
      const { listIntegrations } = await import('../../ims/list-integrations.js');
      await withImsStore(opts, async (store) => {
        const environment = opts['environment'];
        const integrations = await listIntegrations(store, environment ? { environment } : {});
        printReport(opts['json'], { integrations }, () => {
          if (integrations.length === 0) return 'no integrations\n';
          return integrations
            .map(
              (i) =>
                `${i.clientId}  ${i.environmentId}  created ${i.createdAt}  ${i.revoked ? 'REVOKED' : 'active'}\n${i.certificates
                  .map((c) => `  certificate sha256 ${c.fingerprint}  expires ${c.notAfter}\n`)
                  .join('')}`,
            )
            .join('');
        });
      });
    } catch (err) {
      fail(err);
    }
  });

  imsFlags(
    credentials
      .command('add-certificate')
      .description(
        'add a certificate (PEM file) to an integration, for key rotation: JWTs signed with either key are accepted; prints its fingerprint',
      )
      .argument('<client-id>', 'e.g. cm-p1-e1-integration')
      .argument('<file>', 'X.509 certificate holding an RSA key, PEM')
      .option('--json', 'print JSON'),
  ).action(async (clientId: string, file: string, opts: Record<string, string | undefined>) => {
    try {
      const pem = readUserFile(file, 'a certificate');
      const { addCertificate } = await import('../../ims/add-certificate.js');
      await withImsStore(opts, async (store) => {
        const r = await addCertificate(store, clientId, pem);
        printReport(
          opts['json'],
          { clientId, ...r },
          () =>
            `certificate sha256 ${r.fingerprint} added to ${clientId} (${r.certificates} certificates); remove the old one with latchkey credentials remove-certificate ${clientId} FINGERPRINT\n`,
        );
      });
    } catch (err) {
      fail(err);
    }
  });

  imsFlags(
    credentials
      .command('remove-certificate')
      .description('remove a certificate of an integration (at least one stays)')
      .argument('<client-id>', 'e.g. cm-p1-e1-integration')
      .argument(
        '<fingerprint>',
        'its SHA-256 fingerprint as credentials list shows it (hex, with or without colons)',
      )
      .option('--json', 'print JSON'),
  ).action(
    async (clientId: string, fingerprint: string, opts: Record<string, string | undefined>) => {
      try {
        const { parseFingerprint } = await import('../../ims/certificate-fingerprint.js');
        const { removeCertificate } = await import('../../ims/add-certificate.js');
        const print = parseFingerprint(fingerprint);
        await withImsStore(opts, async (store) => {
          const certificates = await removeCertificate(store, clientId, print);
          printReport(
            opts['json'],
            { clientId, fingerprint: print, certificates },
            () =>
              `certificate sha256 ${print} removed from ${clientId} (${certificates} left); JWTs signed with its key are refused from now on\n`,
          );
        });
      } catch (err) {
        fail(err);
      }
    },
  );

  imsFlags(
    credentials
      .command('revoke')
      .description('revoke an integration: its secret, certificates and every token issued to it')
      .argument('<client-id>', 'e.g. cm-p1-e1-integration')
      .option('--json', 'print JSON'),
  ).action(async (clientId: string, opts: Record<string, string | undefined>) => {
    try {
      const { revokeIntegration } = await import('../../ims/revocation.js');
      await withImsStore(opts, (store) => revokeIntegration(store, clientId));
      printReport(
        opts['json'],
        { revoked: clientId },
        () =>
          `${clientId} revoked: refused by the IMS at once; its tokens are refused by instances within their revocation poll interval (ims.revocationPollMs, 10 s by default)\n`,
      );
    } catch (err) {
      fail(err);
    }
  });

  credentials
    .command('exchange')
    .description(
      'exchange service credentials (a JSON file) for an access token; prints the token JSON',
    )
    .argument('<file>', 'service credentials JSON')
    .action(async (file: string) => {
      try {
        const text = readUserFile(file, 'service credentials');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch (err) {
          throw new ImsError(
            'invalid_request',
            `cannot read service credentials from ${file}: ${(err as Error).message}`,
          );
        }
        const { exchange } = await import('../../client/exchange.js');
        process.stdout.write(`${JSON.stringify(await exchange(json as never))}\n`);
      } catch (err) {
        const e = err as { code?: string; message: string };
        fail(e.code && !(err instanceof ImsError) ? new ImsError(e.code, e.message) : err);
      }
    });
}
