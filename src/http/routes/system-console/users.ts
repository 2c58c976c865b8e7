import type { FastifyInstance, FastifyReply } from 'fastify';
import { LatchkeyError, NotFoundError } from '../../../errors.js';
import type { RepositoryContext } from '../../../repository/context.js';
import type { Subject } from '../../../repository/subject.js';
import { changePassword } from '../../../repository/users/change-password.js';
import { createGroup } from '../../../repository/users/create-group.js';
import { createUser } from '../../../repository/users/create-user.js';
import { disableUser } from '../../../repository/users/disable-user.js';
import {
  listAuthorizables,
  readAuthorizable,
} from '../../../repository/users/list-authorizables.js';
import { updateMembership } from '../../../repository/users/membership.js';
import { endSessions } from '../../../repository/users/sessions.js';
import { type FormState, formOutcome } from '../../console/form-state.js';
import { sentence } from '../../console/register.js';
import { field, readForm } from '../../read-form.js';
import { administrator, MOUNT } from './guard.js';

const PATH = `${MOUNT}/users`;
const TAB = 'users';

/** Notices after a change, by the `done` code the redirect carries (never text from the request). */
const DONE: Readonly<Record<string, string>> = {
  createUser: 'User created.',
  createGroup: 'Group created.',
  password: 'Password changed. Every session of the user has ended.',
  disable: 'User disabled. Every session of the user has ended.',
  enable: 'User enabled.',
  endSessions: 'Every session of the user has ended.',
  addMember: 'Membership added.',
  removeMember: 'Membership removed.',
};

/**
 * Users and groups: list and search, create users and groups, and per user or group: reset the
 * password, disable or enable, end every session, memberships. Each form calls the function the
 * user admin endpoint calls.
 */
export function usersRoutes(scope: FastifyInstance, ctx: RepositoryContext) {
  const list = async (
    reply: FastifyReply,
    subject: Subject,
    q: string,
    extra: FormState & { values?: Record<string, string> } = {},
  ) => {
    const { items, more } = await listAuthorizables(ctx, subject, { query: q });
    return reply.code(extra.status ?? 200).page(
      'system/users',
      {
        title: 'Users and groups',
        q,
        items,
        more,
        groups: items.filter((a) => a.kind === 'group').map((a) => a.id),
        values: extra.values ?? {},
        ...formOutcome(extra, DONE, 'Nothing was created: see the message in the form.'),
      },
      TAB,
    );
  };

  scope.get<{ Querystring: { q?: string; done?: string } }>(
    PATH,
    { schema: { hide: true } },
    async (request, reply) => {
      const subject = administrator(request, 'users and groups');
      return list(reply, subject, request.query.q ?? '', { done: request.query.done });
    },
  );

  scope.post(PATH, { schema: { hide: true } }, async (request, reply) => {
    const subject = administrator(request, 'users and groups');
    const form = await readForm(request);
    const action = field(form, 'action');
    const id = (field(form, 'authorizableId') ?? '').trim();
    try {
      if (action === 'createUser') {
        const password = field(form, 'password') ?? '';
        const group = field(form, 'group') ?? '';
        await createUser(ctx, subject, { id, password, groups: group ? [group] : [] });
      } else if (action === 'createGroup') {
        await createGroup(ctx, subject, { id });
      } else {
        throw new LatchkeyError('invalid_request', 'unknown action', 400);
      }
    } catch (err) {
      if (!(err instanceof LatchkeyError) || err.status >= 500) throw err;
      // Each mistake next to its field: the password's and the group's under theirs, the rest
      // (the id, a taken id) under the id.
      const at =
        action === 'createGroup'
          ? 'createGroup'
          : err.code === 'invalid_password'
            ? 'createUserPassword'
            : err.code === 'invalid_group'
              ? 'createUserGroup'
              : 'createUser';
      return list(reply, subject, '', {
        status: err.status,
        errors: { [at]: sentence(err.message) },
        values: { [action === 'createGroup' ? 'groupId' : 'userId']: id },
      });
    }
    return reply
      .code(303)
      .header('location', `${PATH}/${encodeURIComponent(id)}?done=${action}`)
      .send();
  });

  const detail = async (
    reply: FastifyReply,
    subject: Subject,
    id: string,
    extra: FormState = {},
  ) => {
    const item = await readAuthorizable(ctx, subject, id);
    if (!item) throw new NotFoundError(`there is no user or group ${id.slice(0, 128)}`);
    const { items } = await listAuthorizables(ctx, subject);
    return reply.code(extra.status ?? 200).page(
      'system/user',
      {
        title: `${item.kind === 'group' ? 'Group' : 'User'} ${item.id}`,
        crumbs: [{ label: 'Users and groups', href: PATH }, { label: item.id }],
        item,
        groups: items
          .filter((a) => a.kind === 'group' && a.id !== item.id && !item.groups.includes(a.id))
          .map((a) => a.id),
        ...formOutcome(extra, DONE, 'That did not work: see the message in the form.'),
      },
      TAB,
    );
  };

  scope.get<{ Params: { id: string }; Querystring: { done?: string } }>(
    `${PATH}/:id`,
    { schema: { hide: true } },
    async (request, reply) => {
      const subject = administrator(request, 'users and groups');
      return detail(reply, subject, request.params.id, { done: request.query.done });
    },
  );

  scope.post<{ Params: { id: string } }>(
    `${PATH}/:id`,
    { schema: { hide: true } },
    async (request, reply) => {
      const subject = administrator(request, 'users and groups');
      const id = request.params.id;
      const form = await readForm(request);
      const action = field(form, 'action') ?? '';
      try {
        switch (action) {
          case 'password': {
            const password = field(form, 'password') ?? '';
            if (password === '')
              throw new LatchkeyError('invalid_password', 'enter the new password', 400);
            await changePassword(ctx, subject, id, password);
            break;
          }
          case 'disable': {
            const reason = (field(form, 'reason') ?? '').trim();
            if (reason === '')
              throw new LatchkeyError('invalid_request', 'say why the user is disabled', 400);
            await disableUser(ctx, subject, id, reason);
            break;
          }
          case 'enable':
            await disableUser(ctx, subject, id, '');
            break;
          case 'endSessions':
            await endSessions(ctx, subject, id);
            break;
          case 'addMember': {
            // On a user's page: join a group; on a group's page: add a member.
            const other = (field(form, 'other') ?? '').trim();
            if (other === '') throw new LatchkeyError('invalid_member', 'choose whom to add', 400);
            const group = field(form, 'as') === 'member' ? id : other;
            const member = group === id ? other : id;
            await updateMembership(ctx, subject, group, { add: [member], remove: [] });
            break;
          }
          case 'removeMember': {
            const group = field(form, 'group') ?? '';
            const member = field(form, 'member') ?? '';
            await updateMembership(ctx, subject, group, { add: [], remove: [member] });
            break;
          }
          default:
            throw new LatchkeyError('invalid_request', 'unknown action', 400);
        }
      } catch (err) {
        if (!(err instanceof LatchkeyError) || err.status >= 500) throw err;
        return detail(reply, subject, id, {
          status: err.status,
          errors: { [action]: sentence(err.message) },
        });
      }
      return reply
        .code(303)
        .header('location', `${PATH}/${encodeURIComponent(id)}?done=${encodeURIComponent(action)}`)
        .send();
    },
  );
}
