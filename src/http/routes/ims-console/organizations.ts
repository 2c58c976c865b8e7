import type { FastifyInstance } from 'fastify';
import { organizationTree } from '../../../ims/organization-tree.js';
import type { Store } from '../../../store/types.js';
import { MOUNT, signedIn } from './guard.js';

/** The start page: organizations → programs → environments (a developer's own only). */
export function organizationRoutes(scope: FastifyInstance, store: Store) {
  scope.get(MOUNT, { schema: { hide: true } }, async (request, reply) => {
    const user = signedIn(request);
    const tree = await organizationTree(
      store,
      user.environments === 'all' ? undefined : user.environments,
    );
    return reply.page('ims/organizations', { title: 'Organizations', tree });
  });
}
