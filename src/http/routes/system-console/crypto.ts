import type { FastifyInstance, FastifyReply } from 'fastify';
import { exportBundle } from '../../../crypto/export.js';
import type { KeyringHolder } from '../../../crypto/holder.js';
import { importKeys } from '../../../crypto/import.js';
import type { KeyKind } from '../../../crypto/key-id.js';
import { keyFilesSharedBy, migrateKeys } from '../../../crypto/migrate.js';
import { protect } from '../../../crypto/protect.js';
import { rewrap } from '../../../crypto/rewrap.js';
import { rotateKey } from '../../../crypto/rotate.js';
import { keyStatus } from '../../../crypto/status.js';
import { LatchkeyError } from '../../../errors.js';
import { type FormState, formOutcome } from '../../console/form-state.js';
import { sentence } from '../../console/register.js';
import { field, readForm } from '../../read-form.js';
import { administrator, MOUNT } from './guard.js';

const PATH = `${MOUNT}/crypto`;
const TAB = 'crypto';

/** A form's outcome; its notice is composed here (key ids, counts), so given as text. */
interface Outcome extends FormState {
  notice?: string;
  protectedValue?: string;
  failed?: readonly { path: string; property: string; code: string }[];
}

/**
 * Crypto: where the keys are, every version's id and SHA-256 fingerprint, and the keys commands
 * as buttons (reload, rotate, rewrap, migrate, export, import, protect a value). Each calls the
 * function the CLI calls, on this instance's data folder and store, then reloads the keys in use.
 */
export function cryptoRoutes(scope: FastifyInstance, holder: KeyringHolder) {
  const show = async (reply: FastifyReply, outcome: Outcome = {}) => {
    const status = await keyStatus(holder.location);
    const loaded = holder.keyring;
    const stale =
      status.keys.some((k) => k.primary && loaded[k.kind].primary.id !== k.id) ||
      status.keys.some((k) => !loaded[k.kind].byId.has(k.id));
    return reply.code(outcome.status ?? 200).page(
      'system/crypto',
      {
        title: 'Crypto',
        status,
        loaded: { master: loaded.master.primary.id, hmac: loaded.hmac.primary.id },
        stale,
        sharedWith: keyFilesSharedBy(holder.location.cryptoDir),
        ...formOutcome(outcome, {}, 'That did not work: see the message in the form.'),
        notice: outcome.notice,
        protectedValue: outcome.protectedValue,
        failed: outcome.failed ?? [],
      },
      TAB,
    );
  };

  scope.get(PATH, { schema: { hide: true } }, async (request, reply) => {
    administrator(request, 'the crypto console');
    return show(reply);
  });

  scope.post(PATH, { schema: { hide: true } }, async (request, reply) => {
    administrator(request, 'the crypto console');
    const form = await readForm(request);
    const action = field(form, 'action') ?? '';
    const loc = holder.location;
    try {
      switch (action) {
        case 'refresh': {
          const k = await holder.reload();
          return show(reply, {
            notice: `Keys reloaded: master ${k.master.primary.id}, hmac ${k.hmac.primary.id}.`,
          });
        }
        case 'rotate': {
          const kind = field(form, 'kind');
          if (kind !== 'master' && kind !== 'hmac')
            throw new LatchkeyError('invalid_request', 'choose the master or the hmac key', 400);
          const r = await rotateKey(loc, kind as KeyKind);
          await holder.reload();
          return show(reply, {
            notice: `New primary ${kind} key ${r.current}. The previous one, ${r.previous}, keeps ${kind === 'master' ? 'opening values sealed with it (rewrap moves them to the new key)' : 'verifying tokens signed with it until they expire'}.`,
          });
        }
        case 'rewrap': {
          const r = await rewrap(loc);
          return show(reply, {
            notice: `${r.rewrapped} value(s) re-sealed with the primary master key, ${r.current} already current, ${r.failed.length} could not be opened.`,
            failed: r.failed,
          });
        }
        case 'migrate': {
          const to = field(form, 'to');
          if (to !== 'file' && to !== 'repository')
            throw new LatchkeyError('invalid_request', 'choose key files or the repository', 400);
          const r = await migrateKeys(loc, to);
          await holder.reload();
          return show(reply, {
            notice: r.changed
              ? `Keys moved to ${to === 'file' ? 'key files' : 'the repository (/etc/key)'}, verified by SHA-256; storage is now ${r.to}.`
              : `Nothing to do: the keys are in ${to === 'file' ? 'key files' : 'the repository'} already.`,
          });
        }
        case 'export': {
          const passphrase = field(form, 'passphrase') || undefined;
          const { text } = await exportBundle(loc, passphrase);
          const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
          return reply
            .type('application/octet-stream')
            .header('content-disposition', `attachment; filename="latchkey-keys-${stamp}.bundle"`)
            .send(text);
        }
        case 'import': {
          const bundle = form.files.get('bundle');
          if (!bundle || bundle.length === 0)
            throw new LatchkeyError('invalid_request', 'choose a key bundle file to import', 400);
          const r = await importKeys(loc, bundle.toString('utf8'), {
            passphrase: field(form, 'passphrase') || undefined,
            keepExisting: field(form, 'keepExisting') === 'true',
          });
          await holder.reload();
          return show(reply, {
            notice: `Keys imported and in use: master ${r.master}, hmac ${r.hmac}${r.kept > 0 ? `; ${r.kept} current key(s) kept as older versions` : ''}.`,
          });
        }
        case 'protect': {
          const datum = field(form, 'datum') ?? '';
          if (datum === '')
            throw new LatchkeyError('invalid_request', 'enter the value to protect', 400);
          return show(reply, {
            notice: 'Value protected with the primary master key.',
            protectedValue: protect(holder.keyring, datum),
          });
        }
        default:
          throw new LatchkeyError('invalid_request', 'unknown action', 400);
      }
    } catch (err) {
      if (!(err instanceof LatchkeyError) || err.status >= 500) throw err;
      const message =
        err.code === 'would_orphan'
          ? err.message.replace(
              /add --keep-existing/,
              'tick "Keep the current keys as older versions"',
            )
          : err.message;
      return show(reply, {
        errors: { [action || 'action']: sentence(message) },
        status: err.status,
      });
    }
  });
}
