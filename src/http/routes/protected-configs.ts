import type { FastifyInstance } from 'fastify';
import type { KeyringHolder } from '../../crypto/holder.js';
import { NotFoundError } from '../../errors.js';
import { configPath } from '../../protected-config/kinds.js';
import { checkProtectedConfigs, sealedView } from '../../protected-config/read.js';
import {
  configKind,
  saveProtectedConfig,
  validateConfigName,
} from '../../protected-config/save.js';
import type { RepositoryContext } from '../../repository/context.js';
import { requireAdmin } from '../../repository/require-admin.js';
import { readForm } from '../read-form.js';
import { protectedConfigSchemas } from '../schemas/instance.js';

/**
 * Protected configurations (administrators only):
 * `POST /system/console/configs/<kind>/<name>` with the fields as a form creates or updates one;
 * `GET /system/console/configs/<kind>/<name>.json` shows it with secrets in sealed form;
 * `GET /system/console/configs.json` lists them with whether their secrets open.
 */
export function protectedConfigRoutes(
  app: FastifyInstance,
  ctx: RepositoryContext,
  holder: KeyringHolder,
) {
  app.post<{ Params: { kind: string; name: string } }>(
    '/system/console/configs/:kind/:name',
    { schema: protectedConfigSchemas.save },
    async (request, reply) => {
      requireAdmin(request.subject, 'protected configurations');
      const { kind, name } = request.params;
      const form = await readForm(request);
      const values = new Map<string, string>();
      for (const [field, list] of form.fields) values.set(field, list[list.length - 1] ?? '');
      // `-F privateKey=@private.key` uploads the key file: its text is the value.
      for (const [field, data] of form.files) values.set(field, data.toString('utf8'));
      const result = await saveProtectedConfig(
        ctx,
        holder.keyring,
        request.subject,
        kind,
        name,
        values,
      );
      const node = await ctx.store.getNode(result.path);
      return reply
        .code(result.created ? 201 : 200)
        .send({ path: result.path, ...sealedView(node!, kind) });
    },
  );

  app.get<{ Params: { kind: string; name: string } }>(
    '/system/console/configs/:kind/:name',
    { schema: protectedConfigSchemas.get },
    async (request) => {
      requireAdmin(request.subject, 'protected configurations');
      const { kind } = request.params;
      if (!request.params.name.endsWith('.json')) throw new NotFoundError('use <name>.json');
      const name = validateConfigName(request.params.name.slice(0, -'.json'.length));
      configKind(kind);
      const node = await ctx.store.getNode(configPath(kind, name));
      if (!node) throw new NotFoundError(`no ${kind} configuration ${name}`);
      return { path: node.path, ...sealedView(node, kind) };
    },
  );

  app.get(
    '/system/console/configs.json',
    { schema: protectedConfigSchemas.list },
    async (request) => {
      requireAdmin(request.subject, 'protected configurations');
      return { configurations: await checkProtectedConfigs(ctx.store, holder.keyring) };
    },
  );
}
