import { decodeBundle, encodeBundle } from '../../crypto/bundle.js';
import { CryptoError } from '../../crypto/errors.js';
import { exportBundle } from '../../crypto/export.js';
import { keyId } from '../../crypto/key-id.js';
import { pushKeys } from '../../farm/push-keys.js';
import { parseTargets } from '../../farm/targets.js';
import { passphrase, readUserFile } from '../commands/keys-transfer.js';
import { farmCredentials } from '../farm-flags.js';
import { withKeyLocation } from '../key-location.js';
import { printReport } from '../report.js';

/**
 * `latchkey keys push`: the keys of the data folder (or of `--bundle`) to every `--to` instance,
 * one line per instance. Exit 1 when any instance did not take them.
 */
export async function pushCommand(opts: Record<string, unknown>): Promise<void> {
  const targets = parseTargets(opts['to'] as string[]);
  const str = opts as Record<string, string | undefined>;
  let text: string;
  if (typeof opts['bundle'] === 'string') {
    const content = await decodeBundle(readUserFile(opts['bundle'], '--bundle '), passphrase(str));
    if (content.keys.master.length === 0 || content.keys.hmac.length === 0)
      throw new CryptoError('invalid_bundle', 'the bundle must hold a master and an hmac key');
    text = await encodeBundle(content);
  } else {
    text = await withKeyLocation(
      str,
      async (loc) => (await exportBundle(loc, undefined, 'push')).text,
    );
  }
  // The bundle goes unsealed, inside TLS; its ids are what each instance must report back.
  const { keys } = await decodeBundle(text);
  const expected = { master: keys.master.map(keyId), hmac: keys.hmac.map(keyId) };
  const credentials = await farmCredentials(opts);
  const results = await pushKeys(targets, text, expected, credentials);
  const failed = results.filter((r) => !r.ok).length;
  printReport(
    opts['json'],
    { master: expected.master[0], hmac: expected.hmac[0], instances: results },
    (r) =>
      `pushing master ${r.master}, hmac ${r.hmac} (with ${expected.master.length + expected.hmac.length - 2} older versions)\n${results
        .map((i) =>
          i.ok
            ? `  ${i.url}  ok: verified and in use, no restart (master ${i.master}, hmac ${i.hmac})\n`
            : `  ${i.url}  failed: ${i.error}: ${i.message}\n`,
        )
        .join('')}${
        failed
          ? `${failed} of ${results.length} instance(s) did not take the keys\n`
          : `every instance (${results.length}) uses these keys\n`
      }`,
  );
  if (failed) process.exitCode = 1;
}
