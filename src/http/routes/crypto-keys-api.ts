import type { FastifyInstance } from 'fastify';
import { activateKey } from '../../crypto/activate.js';
import { addOlderKeys } from '../../crypto/add-keys.js';
import { decodeBundle } from '../../crypto/bundle.js';
import type { KeyringHolder } from '../../crypto/holder.js';
import { importKeys } from '../../crypto/import.js';
import { KEY_ID } from '../../crypto/key-id.js';
import type { Keyring } from '../../crypto/keyring.js';
import { LatchkeyError } from '../../errors.js';
import { requireAdmin } from '../../repository/require-admin.js';
import { field, readForm } from '../read-form.js';
import { cryptoKeysSchemas } from '../schemas/instance.js';

const WHAT = 'the keys API';

/** The keys in use, by id only (never a key's bytes). */
export function loadedKeys(keyring: Keyring) {
  return {
    master: { primary: keyring.master.primary.id, versions: [...keyring.master.byId.keys()] },
    hmac: { primary: keyring.hmac.primary.id, versions: [...keyring.hmac.byId.keys()] },
    aemMaster: keyring.aemMaster !== undefined,
  };
}

/**
 * The keys API that `latchkey keys push` and `latchkey farm rotate-hmac` call, administrators
 * only:
 * - `GET /system/console/crypto/keys.json`: the keys in use (ids);
 * - `POST /system/console/crypto/keys` (form: `bundle`, a `keys export` bundle, unsealed;
 *   `mode=primary`, the default, or `verify-only`): the bundle is verified (format, SHA-256,
 *   key lengths) and installed, and the keys are reloaded without a restart. `primary`: its
 *   primaries become primary and the instance's own keys stay as older versions (nothing sealed
 *   or signed here stops opening). `verify-only`: its keys are added as older versions only;
 *   nothing is signed with them yet;
 * - `POST /system/console/crypto/keys/activate` (form: `kind=hmac|master`, `id`): a version the
 *   instance holds becomes primary (409 `unknown_key` when it does not hold it).
 * Every answer is the keys now in use. The other processes of a cluster sharing the store
 * reload theirs through the change channel.
 */
export function cryptoKeysApiRoutes(app: FastifyInstance, holder: KeyringHolder) {
  app.get(
    '/system/console/crypto/keys.json',
    { schema: cryptoKeysSchemas.get },
    async (request) => {
      requireAdmin(request.subject, WHAT);
      return loadedKeys(holder.keyring);
    },
  );

  app.post(
    '/system/console/crypto/keys',
    { schema: cryptoKeysSchemas.install },
    async (request) => {
      requireAdmin(request.subject, WHAT);
      const form = await readForm(request);
      const text = form.files.get('bundle')?.toString('utf8') ?? field(form, 'bundle');
      if (!text) throw new LatchkeyError('invalid_request', 'form field bundle is required', 400);
      const mode = field(form, 'mode') ?? 'primary';
      if (mode === 'primary') {
        await importKeys(holder.location, text, { keepExisting: true, source: 'push' });
      } else if (mode === 'verify-only') {
        const bundle = await decodeBundle(text); // a sealed bundle is refused: it needs a passphrase
        if (bundle.aemMaster)
          throw new LatchkeyError(
            'invalid_request',
            'a verify-only bundle holds no AEM master key',
            400,
          );
        await addOlderKeys(holder.location, bundle.keys);
      } else {
        throw new LatchkeyError('invalid_request', 'mode must be primary or verify-only', 400);
      }
      return loadedKeys(await holder.reload());
    },
  );

  app.post(
    '/system/console/crypto/keys/activate',
    { schema: cryptoKeysSchemas.activate },
    async (request) => {
      requireAdmin(request.subject, WHAT);
      const form = await readForm(request);
      const kind = field(form, 'kind');
      const id = field(form, 'id') ?? '';
      if (kind !== 'master' && kind !== 'hmac')
        throw new LatchkeyError('invalid_request', 'kind must be master or hmac', 400);
      if (!KEY_ID.test(id))
        throw new LatchkeyError('invalid_request', 'id must be a key id (16 hex digits)', 400);
      await activateKey(holder.location, kind, id);
      return loadedKeys(await holder.reload());
    },
  );
}
