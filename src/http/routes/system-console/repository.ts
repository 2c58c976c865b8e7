import type { FastifyInstance, FastifyReply } from 'fastify';
import { LatchkeyError } from '../../../errors.js';
import { browseNode, canRead, readBinaryProperty } from '../../../repository/browse-node.js';
import type { RepositoryContext } from '../../../repository/context.js';
import { deleteNode } from '../../../repository/delete-node.js';
import {
  childPath,
  isValidName,
  nameOf,
  parentPath,
  validatePath,
} from '../../../repository/path.js';
import { postNode } from '../../../repository/post-node.js';
import { PROPERTY_TYPES } from '../../../repository/properties.js';
import { checkPropertyName, parseSlingPost } from '../../../repository/sling-post-form.js';
import type { Subject } from '../../../repository/subject.js';
import { userPath } from '../../../repository/users/paths.js';
import { type FormState, formOutcome } from '../../console/form-state.js';
import { sentence } from '../../console/register.js';
import { field, readForm } from '../../read-form.js';
import { MOUNT, signedIn } from './guard.js';

const PATH = `${MOUNT}/repository`;
const TAB = 'repository';

const DONE: Readonly<Record<string, string>> = {
  setProperty: 'Property saved.',
  deleteProperty: 'Property removed.',
  addNode: 'Node created.',
  deleteNode: 'Node deleted.',
};

const browseUrl = (path: string, extra = '') => `${PATH}?path=${encodeURIComponent(path)}${extra}`;

/**
 * The repository browser, as CRXDE Lite: a tree to navigate, a node's properties with their
 * types, a Binary's download, and edits and deletions made with the signed-in user's own
 * permissions (any signed-in user, not only administrators). Binary values are never shown in a
 * page; the key material under `/etc/key` is offered for download to administrators only.
 */
export function repositoryRoutes(
  scope: FastifyInstance,
  ctx: RepositoryContext,
  maxPathLength: number,
) {
  const show = async (
    reply: FastifyReply,
    subject: Subject,
    path: string,
    extra: FormState & { edit?: string | undefined; values?: Record<string, string> } = {},
  ) => {
    const node = await browseNode(ctx, subject, path);
    const editing = extra.edit
      ? node.properties.find((p) => p.name === extra.edit && !p.binary)
      : undefined;
    return reply.code(extra.status ?? 200).page(
      'system/repository',
      {
        title: path === '/' ? 'Repository' : nameOf(path),
        crumbs: [
          ...node.ancestors.map((a) => ({
            label: a.path === '/' ? 'Repository' : nameOf(a.path),
            ...(a.readable ? { href: browseUrl(a.path) } : {}),
          })),
          { label: path === '/' ? 'Repository' : nameOf(path) },
        ],
        node,
        parent:
          path === '/' || !node.ancestors[node.ancestors.length - 1]?.readable
            ? undefined
            : parentPath(path),
        types: PROPERTY_TYPES,
        values:
          extra.values ??
          (editing
            ? {
                name: editing.name,
                type: editing.type,
                multiple: editing.multiple ? 'true' : '',
                value: editing.values.join('\n'),
              }
            : {}),
        ...formOutcome(extra, DONE, 'Nothing was changed: see the message in the form.'),
        browseUrl,
      },
      TAB,
    );
  };

  const pathOf = (raw: string | undefined) => validatePath(raw || '/', maxPathLength);

  scope.get<{ Querystring: { path?: string; done?: string; edit?: string } }>(
    PATH,
    { schema: { hide: true } },
    async (request, reply) => {
      const subject = signedIn(request);
      // Without a path: the root, or for a user who may not read it, the user's own node.
      const start =
        request.query.path || (await canRead(ctx, subject, '/')) ? '/' : userPath(subject.userId);
      return show(reply, subject, pathOf(request.query.path || start), {
        done: request.query.done,
        edit: request.query.edit,
      });
    },
  );

  scope.get<{ Querystring: { path?: string; property?: string } }>(
    `${PATH}/download`,
    { schema: { hide: true } },
    async (request, reply) => {
      const subject = signedIn(request);
      const path = pathOf(request.query.path);
      const name = request.query.property ?? '';
      const data = await readBinaryProperty(ctx, subject, path, name);
      const filename = `${nameOf(path) || 'root'}-${name}`.replace(/[^\w.@+-]/g, '_');
      return reply
        .type('application/octet-stream')
        .header('content-disposition', `attachment; filename="${filename}"`)
        .send(data);
    },
  );

  scope.get<{ Querystring: { path?: string } }>(
    `${PATH}/delete`,
    { schema: { hide: true } },
    async (request, reply) => {
      const subject = signedIn(request);
      const path = pathOf(request.query.path);
      const node = await browseNode(ctx, subject, path, { maxChildren: 0 });
      return reply.page(
        'confirm',
        {
          title: `Delete ${path}?`,
          question: `Delete the node ${path} and everything below it? This cannot be undone.`,
          action: browseUrl(path),
          fields: { action: 'deleteNode' },
          confirm: 'Delete',
          cancel: browseUrl(node.path),
        },
        TAB,
      );
    },
  );

  scope.post<{ Querystring: { path?: string } }>(
    PATH,
    { schema: { hide: true } },
    async (request, reply) => {
      const subject = signedIn(request);
      const path = pathOf(request.query.path);
      const form = await readForm(request);
      const action = field(form, 'action') ?? '';
      let next = path;
      try {
        switch (action) {
          case 'setProperty': {
            const name = (field(form, 'name') ?? '').trim();
            const type = field(form, 'type') ?? 'String';
            const multiple = field(form, 'multiple') === 'true';
            const file = form.files.get('file');
            if (name === '')
              throw new LatchkeyError('invalid_property', 'enter a property name', 400);
            checkPropertyName(name);
            const text = field(form, 'value') ?? '';
            const values = multiple ? text.split(/\r?\n/).filter((v) => v !== '') : [text];
            if (type === 'Binary' && !file && text === '')
              throw new LatchkeyError(
                'invalid_property',
                'choose a file for a Binary property (or type its text as the value)',
                400,
              );
            // A Sling POST reads any word but "true" as false, as JCR does; a person typing
            // "yes" or "maybe" here means something else, so only true and false are taken.
            if (
              type === 'Boolean' &&
              values.some((v) => v.trim() !== '' && !/^(?:true|false)$/i.test(v.trim()))
            )
              throw new LatchkeyError('invalid_property', 'a Boolean is true or false', 400);
            // The same parser as a Sling POST: the same names, types and protections.
            const changes = parseSlingPost(
              type === 'Binary' && file
                ? { fields: new Map(), files: new Map([[name, file]]) }
                : {
                    fields: new Map([
                      [name, values.length > 0 ? values : ['']],
                      [`${name}@TypeHint`, [`${type}${multiple ? '[]' : ''}`]],
                    ]),
                    files: new Map(),
                  },
            );
            if (changes.remove.has(name))
              throw new LatchkeyError(
                'invalid_property',
                'enter a value (use Remove to delete a property)',
                400,
              );
            await postNode(ctx, subject, path, changes);
            break;
          }
          case 'deleteProperty': {
            const name = field(form, 'name') ?? '';
            // The names a Sling POST may remove, no others: never a protected rep: property.
            checkPropertyName(name);
            await postNode(ctx, subject, path, {
              set: new Map(),
              remove: new Set([name]),
              primaryType: undefined,
            });
            break;
          }
          case 'addNode': {
            const name = (field(form, 'name') ?? '').trim();
            if (name === '')
              throw new LatchkeyError('invalid_path', "enter the new node's name", 400);
            if (name.length > 255)
              throw new LatchkeyError(
                'invalid_path',
                `a node name has at most 255 characters, this one ${name.length}`,
                400,
              );
            if (!isValidName(name))
              throw new LatchkeyError(
                'invalid_path',
                'a node name is one path segment, without / \\ [ ] | * or control characters',
                400,
              );
            const child = validatePath(childPath(path, name), maxPathLength);
            const changes = parseSlingPost({
              fields: new Map([
                ['jcr:primaryType', [field(form, 'primaryType') || 'nt:unstructured']],
              ]),
              files: new Map(),
            });
            const result = await postNode(ctx, subject, child, changes);
            if (!result.created) throw new LatchkeyError('conflict', `${name} exists already`, 409);
            next = child;
            break;
          }
          case 'deleteNode':
            await deleteNode(ctx, subject, path);
            next = parentPath(path);
            break;
          default:
            throw new LatchkeyError('invalid_request', 'unknown action', 400);
        }
      } catch (err) {
        if (!(err instanceof LatchkeyError) || err.status >= 500) throw err;
        if (action === 'deleteNode' || err.code === 'not_found') throw err;
        return show(reply, subject, path, {
          status: err.status,
          errors: { [action]: sentence(err.message) },
          values: {
            name: field(form, 'name') ?? '',
            type: field(form, 'type') ?? 'String',
            multiple: field(form, 'multiple') ?? '',
            value: field(form, 'value') ?? '',
          },
        });
      }
      return reply
        .code(303)
        .header('location', browseUrl(next, `&done=${action}`))
        .send();
    },
  );
}
