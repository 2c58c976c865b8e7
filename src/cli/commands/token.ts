import type { Command } from 'commander';
import { fail } from '../fail.js';
import { imsFlags, publicUrlOf, withImsStore } from '../ims-store.js';

/** `latchkey token dev --user ID --environment p1-e1`: a local development token. */
export function tokenCommands(program: Command) {
  const token = program.command('token').description('access tokens for development');
  imsFlags(
    token
      .command('dev')
      .description(
        "print a local development token for an IMS user, as the Developer Console's JSON (valid 24 h)",
      )
      .requiredOption('--user <id>', 'the user (the same id must exist on the instances)')
      .requiredOption('--environment <id>', 'program and environment, e.g. p1-e1'),
  ).action(async (opts: Record<string, string | undefined>) => {
    try {
      const { cryptoDirOf, loadKeyring } = await import('../../crypto/load-keyring.js');
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
        const signing = new SigningKeyRing(
          store,
          keyring,
          config.ims.accessTokenAlgorithm,
          ACCESS_TOKEN_LIFETIME_MS,
        );
        await signing.refresh();
        const json = await devToken(store, signing.current(), {
          userId: opts['user']!,
          environment: opts['environment']!,
          issuer: { issuer: (await publicUrlOf(store, config)).issuer, as: config.ims.asClaim },
        });
        process.stdout.write(`${JSON.stringify(json)}\n`);
      });
    } catch (err) {
      fail(err);
    }
  });
}
