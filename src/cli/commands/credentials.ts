import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ImsError } from '../../ims/errors.js';
import { fail } from '../fail.js';
import { imsFlags, publicUrlOf, withImsStore } from '../ims-store.js';

/** `latchkey credentials create|revoke|exchange`. */
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
      .requiredOption('--environment <id>', 'program and environment, e.g. p1-e1')
      .option('--out <file>', 'write the JSON to this new file (0600) instead of printing it'),
  ).action(async (opts: Record<string, string | undefined>) => {
    try {
      const out = opts['out'];
      if (out !== undefined && existsSync(out)) {
        throw new ImsError('invalid_request', `${out} exists already; choose another --out`);
      }
      const { bootstrapIms } = await import('../../ims/bootstrap.js');
      const { createCredentials } = await import('../../ims/credentials.js');
      await withImsStore(opts, async (store, config) => {
        await bootstrapIms(store);
        const json = await createCredentials(store, {
          environment: opts['environment']!,
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
      .command('revoke')
      .description('revoke an integration: its secret, certificates and every token issued to it')
      .argument('<client-id>', 'e.g. cm-p1-e1-integration'),
  ).action(async (clientId: string, opts: Record<string, string | undefined>) => {
    try {
      const { revokeIntegration } = await import('../../ims/revocation.js');
      await withImsStore(opts, (store) => revokeIntegration(store, clientId));
      process.stdout.write(
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
        let json: unknown;
        try {
          json = JSON.parse(readFileSync(file, 'utf8'));
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
