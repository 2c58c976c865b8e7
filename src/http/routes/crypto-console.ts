import type { FastifyInstance } from 'fastify';
import type { KeyringHolder } from '../../crypto/holder.js';
import { protect } from '../../crypto/protect.js';
import { LatchkeyError } from '../../errors.js';
import { requireAdmin } from '../../repository/require-admin.js';
import { field, readForm } from '../read-form.js';
import { cryptoConsoleSchemas } from '../schemas/instance.js';
import { loadedKeys } from './crypto-keys-api.js';

/**
 * AEM's crypto console: `POST /system/console/crypto/.json` with form field `datum` answers
 * `{"protected":"{…}"}`; `POST /system/console/crypto/refresh` reloads the keys from storage
 * without a restart. Administrators only.
 */
export function cryptoConsoleRoutes(app: FastifyInstance, holder: KeyringHolder) {
  app.post(
    '/system/console/crypto/.json',
    { schema: cryptoConsoleSchemas.protect },
    async (request) => {
      requireAdmin(request.subject, 'the crypto console');
      const datum = field(await readForm(request), 'datum');
      if (datum === undefined)
        throw new LatchkeyError('invalid_request', 'form field datum is required', 400);
      return { protected: protect(holder.keyring, datum) };
    },
  );

  app.post(
    '/system/console/crypto/refresh',
    { schema: cryptoConsoleSchemas.refresh },
    async (request) => {
      requireAdmin(request.subject, 'the crypto console');
      return loadedKeys(await holder.reload());
    },
  );
}
