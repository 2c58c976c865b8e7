import type { Command } from 'commander';
import { fail } from '../fail.js';
import { imsFlags, publicUrlOf, withImsStore } from '../ims-store.js';
import { printReport } from '../report.js';

/**
 * `latchkey token dev --user ID [--environment p1-e1]`: a local development token;
 * `latchkey token list`, `latchkey token revoke`.
 */
export function tokenCommands(program: Command) {
  const token = program.command('token').description('access tokens for development');
  imsFlags(
    token
      .command('dev')
      .description(
        "print a local development token for an IMS user, as the Developer Console's JSON (valid 24 h)",
      )
      .requiredOption('--user <id>', 'the user (the same id must exist on the instances)')
      .option(
        '--environment <id>',
        'program and environment, e.g. p1-e1 (default: the only one, when the IMS has one)',
      ),
  ).action(async (opts: Record<string, string | undefined>) => {
    try {
      const { cryptoDirOf, loadKeyring } = await import('../../crypto/load-keyring.js');
      const { soleEnvironment } = await import('../../ims/sole-environment.js');
      const { ACCESS_TOKEN_LIFETIME_MS } = await import('../../ims/access-token.js');
      const { bootstrapIms } = await import('../../ims/bootstrap.js');
      const { devToken } = await import('../../ims/dev-token.js');
      const { SigningKeyRing } = await import('../../ims/signing-keys.js');
      await withImsStore(opts, async (store, config) => {
        const keyring = await loadKeyring(
          { cryptoDir: cryptoDirOf(config.data), store },
          { initialize: false },
        );
        await bootstrapIms(store);
        const environment = opts['environment'] ?? (await soleEnvironment(store));
        const signing = new SigningKeyRing(
          store,
          keyring,
          config.ims.accessTokenAlgorithm,
          ACCESS_TOKEN_LIFETIME_MS,
        );
        await signing.refresh();
        const json = await devToken(store, signing.current(), {
          userId: opts['user']!,
          environment,
          issuer: { issuer: (await publicUrlOf(store, config)).issuer, as: config.ims.asClaim },
        });
        process.stdout.write(`${JSON.stringify(json)}\n`);
      });
    } catch (err) {
      fail(err);
    }
  });

  imsFlags(
    token
      .command('list')
      .description(
        'list the development tokens that have not expired (their ids, never the tokens)',
      )
      .option('--user <id>', 'only this user’s tokens')
      .option('--json', 'print JSON'),
  ).action(async (opts: Record<string, string | undefined>) => {
    try {
      const { listDevTokens } = await import('../../ims/revoke-dev-tokens.js');
      await withImsStore(opts, async (store) => {
        const tokens = await listDevTokens(store, opts['user']);
        if (opts['json']) {
          process.stdout.write(`${JSON.stringify({ tokens })}\n`);
          return;
        }
        if (tokens.length === 0) process.stdout.write('no live development tokens\n');
        for (const t of tokens) {
          process.stdout.write(
            `${t.jti}  ${t.user}  ${t.environment}  issued ${new Date(t.issuedAt).toISOString()}  expires ${new Date(t.expiresAt).toISOString()}${t.revoked ? '  revoked' : ''}\n`,
          );
        }
      });
    } catch (err) {
      fail(err);
    }
  });

  imsFlags(
    token
      .command('revoke')
      .description(
        'revoke one development token (its id from latchkey token list), or with --user every token of a user',
      )
      .argument('[jti]', 'the token’s id')
      .option('--user <id>', 'revoke every token issued so far for this user')
      .option('--json', 'print JSON'),
  ).action(async (jti: string | undefined, opts: Record<string, string | undefined>) => {
    try {
      const { revokeDevTokens } = await import('../../ims/revoke-dev-tokens.js');
      await withImsStore(opts, async (store) => {
        const { revoked } = await revokeDevTokens(store, { jti, user: opts['user'] });
        printReport(
          opts['json'],
          { revoked },
          () =>
            `${revoked} development token${revoked === 1 ? '' : 's'} revoked: refused by the IMS at once, by instances within ims.revocationPollMs (10 s by default)\n`,
        );
      });
    } catch (err) {
      fail(err);
    }
  });
}
