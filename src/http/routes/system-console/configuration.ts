import type { FastifyInstance } from 'fastify';
import {
  parseTokenForm,
  TOKEN_PID,
  type TokenSettingsCache,
} from '../../../auth/tokens/settings.js';
import { LatchkeyError } from '../../../errors.js';
import { sentence } from '../../console/register.js';
import { field, readForm } from '../../read-form.js';
import { administrator, MOUNT } from './guard.js';

const PATH = `${MOUNT}/configMgr`;
const TAB = 'configuration';

/**
 * Configuration: the token authentication handler as the Felix console shows it ("Enable
 * encapsulated token support", expiration, SameSite). Saving writes the same configuration as
 * `POST /system/console/configMgr/<pid>` and applies at once.
 */
export function configurationRoutes(scope: FastifyInstance, settings: TokenSettingsCache) {
  scope.get<{ Querystring: { saved?: string } }>(
    PATH,
    { schema: { hide: true } },
    async (request, reply) => {
      administrator(request, 'the configuration');
      const s = await settings.get();
      return reply.page(
        'system/configuration',
        {
          title: 'Configuration',
          pid: TOKEN_PID,
          notice:
            request.query.saved !== undefined
              ? 'Saved. New sign-ins get tokens with these settings from now on.'
              : undefined,
          values: {
            encapsulated: s.encapsulated,
            expiration: String(s.expirationMs),
            sameSite: s.sameSite,
          },
          errors: {},
        },
        TAB,
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
      return reply.code(400).page(
        'system/configuration',
        {
          title: 'Configuration',
          pid: TOKEN_PID,
          error: 'Nothing was saved: correct the marked fields.',
          values: {
            encapsulated: values.get('token.encapsulated') !== 'false',
            expiration: values.get('token.expiration'),
            sameSite: values.get('token.samesite.cookie.attr'),
          },
          errors,
        },
        TAB,
      );
    }
    await settings.save(parseTokenForm(values));
    return reply.code(303).header('location', `${PATH}?saved`).send();
  });
}
