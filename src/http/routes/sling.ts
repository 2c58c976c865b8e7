import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LatchkeyError, NotFoundError } from '../../errors.js';
import { deleteAces } from '../../repository/acl/delete-ace.js';
import { modifyAce, parsePrivilegeFields } from '../../repository/acl/modify-ace.js';
import { readAcl } from '../../repository/acl/read-acl.js';
import type { RepositoryContext } from '../../repository/context.js';
import { deleteNode } from '../../repository/delete-node.js';
import { decodeRequestPath, isSameOrDescendant } from '../../repository/path.js';
import { postNode } from '../../repository/post-node.js';
import { readString } from '../../repository/properties.js';
import { renderJson } from '../../repository/render-json.js';
import { requireAdmin } from '../../repository/require-admin.js';
import { invalidSelector, parseDepth, resolveResource } from '../../repository/resolve.js';
import { parseSlingPost } from '../../repository/sling-post-form.js';
import { changePassword } from '../../repository/users/change-password.js';
import { deleteAuthorizable } from '../../repository/users/delete-authorizable.js';
import { disableUser } from '../../repository/users/disable-user.js';
import { updateMembership } from '../../repository/users/membership.js';
import { isAuthorizable } from '../../repository/users/paths.js';
import { endSessions } from '../../repository/users/sessions.js';
import { field, has, readForm } from '../read-form.js';
import { repositorySubject } from '../request-context.js';
import { slingSchemas } from '../schemas/instance.js';
import { slingStatus } from './sling-responses.js';

export interface SlingOptions {
  readonly anonymous: boolean;
  readonly maxPathLength: number;
}

const GET_SELECTORS = (s: string) => s === 'tidy' || s === 'acl' || parseDepth(s) !== undefined;
const POST_SELECTORS = new Set(['modifyAce', 'deleteAce', 'rw']);
const isKnownGet = (selectors: readonly string[], ext: string) =>
  ext === 'json' && selectors.every(GET_SELECTORS);
const isKnownPost = (selectors: readonly string[], ext: string) =>
  (ext === 'json' || ext === 'html') && selectors.every((s) => POST_SELECTORS.has(s));

/**
 * The repository over HTTP, as Sling serves it: `GET /<path>.json` (`.N.json`, `.infinity.json`,
 * `.tidy.json`, `.acl.json`), `POST /<path>` to create or modify (`:operation=delete` to delete),
 * `POST /<path>.modifyAce.json` / `.deleteAce.json` for access control, and the user admin's
 * operations posted to a user's or group's path.
 */
export function slingRoutes(app: FastifyInstance, ctx: RepositoryContext, options: SlingOptions) {
  app.get('/*', { schema: slingSchemas.get }, async (request, reply) => {
    const subject = repositorySubject(request, options.anonymous);
    const requestPath = decodeRequestPath(request.url, options.maxPathLength);
    const resolved = await resolveResource(ctx.store, requestPath, isKnownGet);
    if (!resolved.node) throw new NotFoundError();
    const { selectors, extension } = resolved;
    if (extension !== undefined && extension !== 'json') {
      throw new LatchkeyError(
        'unsupported_extension',
        `no renderer for .${extension.slice(0, 20)}; use .json`,
        400,
      );
    }
    let depth: number | undefined;
    let tidy = false;
    let acl = false;
    for (const s of selectors) {
      const d = parseDepth(s);
      if (d !== undefined && depth === undefined) depth = d;
      else if (s === 'tidy' && !tidy) tidy = true;
      else if (s === 'acl' && !acl) acl = true;
      else throw invalidSelector(`unknown or repeated selector ${JSON.stringify(s.slice(0, 40))}`);
    }
    if (acl) {
      if (depth !== undefined) throw invalidSelector('.acl.json takes no depth');
      return sendJson(reply, 200, await readAcl(ctx, subject, resolved.path), tidy);
    }
    const rendering = await renderJson(ctx, subject, resolved.path, depth ?? 0, resolved.node);
    return sendJson(reply, rendering.status, rendering.body, tidy);
  });

  app.post('/*', { schema: slingSchemas.post }, async (request, reply) => {
    const subject = repositorySubject(request, options.anonymous);
    const requestPath = decodeRequestPath(request.url, options.maxPathLength);
    const resolved = await resolveResource(ctx.store, requestPath, isKnownPost);
    if (resolved.extension !== undefined && !isKnownPost(resolved.selectors, resolved.extension)) {
      throw invalidSelector('unknown selector or extension for POST');
    }
    const form = await readForm(request);
    const path = resolved.path;
    const selector = resolved.selectors[0];

    if (selector === 'modifyAce') {
      await modifyAce(
        ctx,
        subject,
        path,
        field(form, 'principalId'),
        parsePrivilegeFields(form.fields),
      );
      return reply.send(slingStatus(200, path, `Access control modified on ${path}`));
    }
    if (selector === 'deleteAce') {
      await deleteAces(ctx, subject, path, form.fields.get(':applyTo') ?? []);
      return reply.send(slingStatus(200, path, `Access control entries deleted on ${path}`));
    }
    if (resolved.node && isAuthorizable(resolved.node)) {
      return authorizableOperation(request, reply, ctx, path, resolved.node.properties, form);
    }
    if (!resolved.node && isSameOrDescendant(path, '/home')) {
      throw new NotFoundError('no user or group at this path');
    }
    const operation = field(form, ':operation');
    if (operation === 'delete') {
      await deleteNode(ctx, subject, path);
      return reply.send(
        slingStatus(200, path, `Content removed ${path}`, [{ type: 'deleted', argument: path }]),
      );
    }
    if (operation !== undefined && operation !== '' && operation !== 'modify') {
      throw new LatchkeyError(
        'invalid_request',
        `unsupported :operation ${JSON.stringify(operation.slice(0, 40))}`,
        400,
      );
    }
    const result = await postNode(ctx, subject, path, parseSlingPost(form));
    const status = result.created ? 201 : 200;
    // Percent-encoded: a header carries ASCII only, a node name may not (an emoji).
    if (result.created) reply.header('location', encodeURI(path));
    return reply
      .code(status)
      .send(
        slingStatus(
          status,
          path,
          `Content ${result.created ? 'created' : 'modified'} ${path}`,
          result.changes,
        ),
      );
  });

  app.route({
    method: ['PUT', 'DELETE', 'PATCH'],
    url: '/*',
    schema: slingSchemas.other,
    handler: async (_request, reply) =>
      reply
        .code(405)
        .header('allow', 'GET, HEAD, POST')
        .send({ error: 'method_not_allowed', error_description: 'use GET, HEAD or POST' }),
  });
}

function sendJson(reply: FastifyReply, status: number, body: unknown, tidy: boolean) {
  reply.code(status).type('application/json; charset=utf-8');
  return reply.send(tidy ? JSON.stringify(body, null, 2) : JSON.stringify(body));
}

/**
 * `deleteAuthorizable`, `addMembers`/`removeMembers`, `rep:password`, `disableUser`, `endSessions`
 * on a path.
 */
async function authorizableOperation(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: RepositoryContext,
  path: string,
  properties: Parameters<typeof readString>[0],
  form: Awaited<ReturnType<typeof readForm>>,
) {
  const subject = request.subject;
  // Every operation on a user or group is an administrator's, whatever the form names.
  requireAdmin(subject, 'changing users and groups');
  const id = readString(properties, 'rep:authorizableId') ?? '';
  if (has(form, 'deleteAuthorizable')) {
    await deleteAuthorizable(ctx, subject, path);
    return reply.send(
      slingStatus(200, path, `Authorizable ${id} deleted`, [{ type: 'deleted', argument: path }]),
    );
  }
  let done = false;
  if (has(form, 'addMembers') || has(form, 'removeMembers')) {
    await updateMembership(ctx, subject, id, {
      add: form.fields.get('addMembers') ?? [],
      remove: form.fields.get('removeMembers') ?? [],
    });
    done = true;
  }
  if (has(form, 'rep:password')) {
    await changePassword(ctx, subject, id, field(form, 'rep:password'));
    done = true;
  }
  if (has(form, 'disableUser')) {
    await disableUser(ctx, subject, id, field(form, 'disableUser') ?? '');
    done = true;
  }
  if (has(form, 'endSessions')) {
    await endSessions(ctx, subject, id);
    done = true;
  }
  if (!done) {
    throw new LatchkeyError(
      'invalid_request',
      'users and groups change through deleteAuthorizable, addMembers, removeMembers, rep:password, disableUser or endSessions',
      400,
    );
  }
  return reply.send(slingStatus(200, path, `Authorizable ${id} modified`));
}
