import type { FastifyInstance } from 'fastify';
import { TtlCache } from '../../cache/ttl-cache.js';
import { ForbiddenError, UnauthorizedError } from '../../errors.js';
import type { RepositoryContext } from '../../repository/context.js';
import {
  readUserSnapshot,
  snapshotTag,
  type UserSnapshot,
} from '../../repository/users/replication/snapshot.js';
import { usersReplicationSchemas } from '../schemas/instance.js';

export const USERS_FEED_PATH = '/system/users/replication.json';
/** Members of this group (and administrators) may read the feed: a publish instance's account. */
export const REPLICATORS_GROUP = 'user-replicators';
/** A snapshot is rebuilt after any user or group change, and at least this often. */
const MAX_AGE_MS = 1000;

/**
 * `GET /system/users/replication.json`: the users and groups of this instance as the instances
 * subscribed to it copy them (password hashes, never passwords; see replication/snapshot.ts),
 * with an `ETag`: a subscriber polling with `If-None-Match` gets `304` and no body while nothing
 * changed, so polling every second costs little. Administrators and members of
 * `user-replicators` only.
 */
export function usersReplicationRoutes(app: FastifyInstance, ctx: RepositoryContext) {
  const feed = new TtlCache<'feed', { snapshot: UserSnapshot; tag: string }>({
    ttlMs: MAX_AGE_MS,
    max: 1,
    scope: () => ctx.access.generation,
  });
  app.get(USERS_FEED_PATH, { schema: usersReplicationSchemas.feed }, async (request, reply) => {
    const subject = request.subject;
    if (!subject.admin && !subject.principals.has(REPLICATORS_GROUP)) {
      if (subject.anonymous) throw new UnauthorizedError('the users feed requires credentials');
      throw new ForbiddenError(
        `the users feed is for administrators and members of ${REPLICATORS_GROUP}`,
      );
    }
    const cached = await feed.fetch('feed', async () => {
      const snapshot = await readUserSnapshot(ctx.store);
      return { snapshot, tag: snapshotTag(snapshot) };
    });
    reply.header('etag', cached.tag);
    if (request.headers['if-none-match'] === cached.tag) return reply.code(304).send();
    return cached.snapshot;
  });
}
