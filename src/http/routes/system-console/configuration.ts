import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  parseTokenForm,
  TOKEN_PID,
  type TokenSettingsCache,
} from '../../../auth/tokens/settings.js';
import { LatchkeyError } from '../../../errors.js';
import { type FormState, formOutcome } from '../../console/form-state.js';
import { sentence } from '../../console/register.js';
import { field, readForm } from '../../read-form.js';
import { administrator, MOUNT } from './guard.js';

const PATH = `${MOUNT}/configMgr`;
const TAB = 'configuration';
const DONE = { saved: 'Saved. New sign-ins get tokens with these settings from now on.' };

/**
 * Configuration: the token authentication handler as the Felix console shows it ("Enable
 * encapsulated token support", expiration, SameSite). Saving writes the same configuration as
 * `POST /system/console/configMgr/<pid>` and applies at once.
 */
export function configurationRoutes(scope: FastifyInstance, settings: TokenSettingsCache) {
  const show = (
    reply: FastifyReply,
    values: { encapsulated: boolean; expiration?: string; sameSite?: string },
    state: FormState,
  ) =>
    reply.code(state.status ?? 200).page(
      'system/configuration',
      {
        title: 'Configuration',
        pid: TOKEN_PID,
        values,
        ...formOutcome(state, DONE, 'Nothing was saved: correct the marked fields.'),
      },
      TAB,
    );

  scope.get<{ Querystring: { saved?: string } }>(
    PATH,
    { schema: { hide: true } },
    async (request, reply) => {
      administrator(request, 'the configuration');
      const s = await settings.get();
      return show(
        reply,
        { encapsulated: s.encapsulated, expiration: String(s.expirationMs), sameSite: s.sameSite },
        { done: request.query.saved !== undefined ? 'saved' : undefined },
      );
    },
  );

  scope.post(PATH, { schema: { hide: true } }, async (request, reply) => {
    administrator(request, 'the configuration');
    const form = await readForm(request);
    // An unticked checkbox is not sent: false, as in the Felix console.
    const values = new Map([
      ['token.encapsulated', field(form, 'token.encapsulated') ?? 'false'],
      ['token.expiration', field(form, 'token.expiration') ?? ''],
      ['token.samesite.cookie.attr', field(form, 'token.samesite.cookie.attr') ?? ''],
    ]);
    // Each property checked on its own, so that every mistake shows next to its field.
    const errors: Record<string, string> = {};
    for (const [name, value] of values) {
      try {
        parseTokenForm(new Map([[name, value]]));
      } catch (err) {
        if (!(err instanceof LatchkeyError)) throw err;
        errors[name] = sentence(err.message);
      }
    }
    if (Object.keys(errors).length > 0) {
      return show(
        reply,
        {
          encapsulated: values.get('token.encapsulated') !== 'false',
          expiration: values.get('token.expiration'),
          sameSite: values.get('token.samesite.cookie.attr'),
        },
        { status: 400, errors },
      );
    }
    await settings.save(parseTokenForm(values));
    return reply.code(303).header('location', `${PATH}?saved`).send();
  });
}
