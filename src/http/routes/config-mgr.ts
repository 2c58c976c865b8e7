import type { FastifyInstance } from 'fastify';
import { parseTokenForm, TOKEN_PID, type TokenSettingsCache } from '../../auth/tokens/settings.js';
import { LatchkeyError, NotFoundError } from '../../errors.js';
import { requireAdmin } from '../../repository/require-admin.js';
import { field, has, readForm } from '../read-form.js';
import { configMgrSchemas } from '../schemas/instance.js';

/**
 * The Felix console's configuration form for the token handler:
 * `POST /system/console/configMgr/<pid>` with `apply=true`, `propertylist=a,b` and the values
 * (a listed Boolean that the form omits is false, as an unticked checkbox), and
 * `GET /system/console/configMgr/<pid>.json`. Stored in the repository, applied at once.
 */
export function configMgrRoutes(app: FastifyInstance, settings: TokenSettingsCache) {
  app.post<{ Params: { pid: string } }>(
    '/system/console/configMgr/:pid',
    { schema: configMgrSchemas.post },
    async (request) => {
      requireAdmin(request.subject, 'the configuration manager');
      if (request.params.pid !== TOKEN_PID)
        throw new NotFoundError(`no configuration ${request.params.pid.slice(0, 80)}`);
      const form = await readForm(request);
      if (!has(form, 'apply'))
        throw new LatchkeyError(
          'invalid_request',
          'send apply=true with propertylist and the values',
          400,
        );
      const names = (field(form, 'propertylist') ?? '')
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean);
      if (names.length === 0)
        throw new LatchkeyError('invalid_request', 'propertylist names no property', 400);
      const values = new Map<string, string>();
      for (const name of names)
        values.set(name, field(form, name) ?? (name === 'token.encapsulated' ? 'false' : ''));
      await settings.save(parseTokenForm(values));
      return settings.describe();
    },
  );

  app.get<{ Params: { pid: string } }>(
    '/system/console/configMgr/:pid',
    { schema: configMgrSchemas.get },
    async (request) => {
      requireAdmin(request.subject, 'the configuration manager');
      if (request.params.pid !== `${TOKEN_PID}.json`)
        throw new NotFoundError(`no configuration ${request.params.pid.slice(0, 80)}`);
      return settings.describe();
    },
  );
}
