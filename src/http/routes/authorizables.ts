import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LatchkeyError } from '../../errors.js';
import type { RepositoryContext } from '../../repository/context.js';
import { createGroup } from '../../repository/users/create-group.js';
import { createUser } from '../../repository/users/create-user.js';
import { field, has, readForm } from '../read-form.js';
import { repositorySubject } from '../request-context.js';
import { authorizableSchema } from '../schemas/instance.js';
import { slingStatus } from './sling-responses.js';

/**
 * AEM's user admin endpoint: `POST /libs/granite/security/post/authorizables` with `createUser`
 * (`authorizableId`, `rep:password`, optional repeated `membership`, `profile/<name>`) or
 * `createGroup` (`authorizableId`, optional repeated `addMembers`). 201 with the new path.
 * Operations on an existing user or group are posted to its path (see sling.ts).
 */
export function authorizableRoutes(
  app: FastifyInstance,
  ctx: RepositoryContext,
  anonymous: boolean,
) {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const subject = repositorySubject(request, anonymous);
    const form = await readForm(request);
    let created: { id: string; path: string };
    if (has(form, 'createUser')) {
      const profile = new Map<string, string>();
      for (const [name, values] of form.fields) {
        if (name.startsWith('profile/'))
          profile.set(name.slice('profile/'.length), values[values.length - 1] ?? '');
      }
      created = await createUser(ctx, subject, {
        id: field(form, 'authorizableId'),
        password: field(form, 'rep:password'),
        groups: form.fields.get('membership') ?? [],
        profile,
      });
    } else if (has(form, 'createGroup')) {
      created = await createGroup(ctx, subject, {
        id: field(form, 'authorizableId'),
        members: form.fields.get('addMembers') ?? [],
      });
    } else {
      throw new LatchkeyError('invalid_request', 'send createUser or createGroup', 400);
    }
    return reply
      .code(201)
      .header('location', created.path)
      .send({
        ...slingStatus(201, created.path, `Authorizable ${created.id} created`),
        authorizableId: created.id,
      });
  };
  for (const url of [
    '/libs/granite/security/post/authorizables',
    '/libs/granite/security/post/authorizables.html',
    '/libs/granite/security/post/authorizables.json',
  ]) {
    app.post(url, { schema: structuredClone(authorizableSchema) }, handler);
  }
}
