import type { Command } from 'commander';
import { ImsError } from '../../ims/errors.js';
import { fail } from '../fail.js';
import { imsFlags, publicUrlOf, withImsStore } from '../ims-store.js';
import { printReport } from '../report.js';

/**
 * `latchkey ims rotate-signing-key`: a new access-token signing key, published before it signs.
 * `latchkey ims public-url [URL]`: shows or changes the deployment's public URL.
 */
export function imsCommands(program: Command) {
  const ims = program.command('ims').description('the identity service');
  imsFlags(
    ims
      .command('rotate-signing-key')
      .description(
        'make a new access-token signing key: published in the JWKS at once, signing after --publish-ahead-ms',
      )
      .option(
        '--publish-ahead-ms <n>',
        'delay before the new key signs (default 600000: 10 minutes)',
        '600000',
      )
      .option('--json', 'print JSON'),
  ).action(async (opts: Record<string, string | undefined>) => {
    try {
      const ahead = Number(opts['publishAheadMs']);
      if (!Number.isSafeInteger(ahead) || ahead < 0) {
        throw new ImsError('invalid_request', '--publish-ahead-ms must be a whole number of ms');
      }
      const { cryptoDirOf, loadKeyring } = await import('../../crypto/load-keyring.js');
      const { loadSigningKeys, rotateSigningKey } = await import('../../ims/signing-keys.js');
      await withImsStore(opts, async (store, config) => {
        const keyring = await loadKeyring(
          { cryptoDir: cryptoDirOf(config.data), store },
          { initialize: false },
        );
        await loadSigningKeys(store, keyring, config.ims.accessTokenAlgorithm); // the first key exists
        const r = await rotateSigningKey(store, keyring, config.ims.accessTokenAlgorithm, ahead);
        const activeFrom = new Date(r.activeFrom).toISOString();
        printReport(
          opts['json'],
          { kid: r.kid, activeFrom },
          () =>
            `new signing key ${r.kid}: published now (running IMS processes of this store pick it up at once, within a minute at most), signs from ${activeFrom}; the previous key stays published until its tokens expire\n`,
        );
      });
    } catch (err) {
      fail(err);
    }
  });

  imsFlags(
    ims
      .command('public-url')
      .description(
        "show the deployment's IMS public URL (tokens' issuer is <URL>/ims, credentials name its host[:port]), or change it to URL",
      )
      .argument('[url]', 'the new public URL, scheme://host[:port]')
      .option('--json', 'print JSON'),
  ).action(async (url: string | undefined, opts: Record<string, string | undefined>) => {
    try {
      const { setPublicUrl } = await import('../../ims/public-url.js');
      await withImsStore(opts, async (store, config) => {
        if (url === undefined) {
          const current = await publicUrlOf(store, config);
          printReport(opts['json'], current, () => `${current.url}\n`);
          return;
        }
        const { previous, current } = await setPublicUrl(store, url);
        printReport(opts['json'], { previous: previous ?? null, current }, () =>
          previous?.url === current.url
            ? `the IMS public URL is ${current.url} already\n`
            : `IMS public URL ${previous ? `changed from ${previous.url} ` : ''}to ${current.url}: restart every IMS process of this store to apply it. Tokens issued before keep the issuer ${previous?.issuer ?? '(none)'}; credentials created before keep naming ${previous?.imsEndpoint ?? '(none)'} and need a new imsEndpoint\n`,
        );
      });
    } catch (err) {
      fail(err);
    }
  });
}
