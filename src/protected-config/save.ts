import { audit } from '../audit/record.js';
import type { Keyring } from '../crypto/keyring.js';
import { protect } from '../crypto/protect.js';
import { isProtected } from '../crypto/protected-format.js';
import { unprotect } from '../crypto/unprotect.js';
import { LatchkeyError } from '../errors.js';
import type { RepositoryContext } from '../repository/context.js';
import { ensureNode } from '../repository/ensure-node.js';
import { readString, stringProperty, toStored } from '../repository/properties.js';
import { requireAdmin } from '../repository/require-admin.js';
import type { Subject } from '../repository/subject.js';
import type { Json } from '../store/types.js';
import { CONFIG_KINDS, type ConfigKind, configPath } from './kinds.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function configKind(kind: string): ConfigKind {
  // Own kinds only: `constructor` or `__proto__` name the object's inherited members.
  const spec = Object.hasOwn(CONFIG_KINDS, kind) ? CONFIG_KINDS[kind] : undefined;
  if (!spec)
    throw new LatchkeyError(
      'not_found',
      `no configuration kind ${JSON.stringify(kind.slice(0, 40))}`,
      404,
    );
  return spec;
}

export function validateConfigName(name: string): string {
  if (!NAME.test(name)) {
    throw new LatchkeyError(
      'invalid_request',
      'configuration names are 1-64 letters, digits and . _ - (starting with a letter or digit)',
      400,
    );
  }
  return name;
}

/**
 * Creates or updates a protected configuration: secret fields are sealed with the primary master
 * key before they reach the store (a value given already sealed is kept if it opens with these
 * keys). Fields not given keep their stored value. Administrators only.
 */
export async function saveProtectedConfig(
  ctx: RepositoryContext,
  keyring: Keyring,
  actor: Subject,
  kind: string,
  name: string,
  values: ReadonlyMap<string, string>,
): Promise<{ created: boolean; path: string }> {
  requireAdmin(actor, 'changing protected configurations');
  const spec = configKind(kind);
  validateConfigName(name);
  for (const field of values.keys()) {
    if (!spec.fields.includes(field)) {
      throw new LatchkeyError(
        'invalid_property',
        `unknown field ${JSON.stringify(field.slice(0, 40))}; ${kind} takes ${spec.fields.join(', ')}`,
        400,
      );
    }
  }
  const sealed = new Map<string, string>();
  for (const [field, value] of values) {
    if (!spec.secret.includes(field)) {
      sealed.set(field, value);
    } else if (isProtected(value)) {
      unprotect(keyring, value); // refuses a sealed value these keys cannot open
      sealed.set(field, value);
    } else {
      sealed.set(field, protect(keyring, value));
    }
  }
  const path = configPath(kind, name);
  const result = await ctx.store.transaction(async (tx) => {
    const { node, created } = await ensureNode(tx, path, spec.nodeType, 'sling:Folder');
    const properties: Record<string, Json> = { ...node.properties };
    for (const [field, value] of sealed) properties[field] = toStored(stringProperty(value));
    const absent = spec.fields
      .filter((f) => !spec.optional.includes(f))
      .filter((f) => (readString(properties, f) ?? '') === '');
    if (absent.length > 0) {
      throw new LatchkeyError(
        'invalid_request',
        `missing required field(s): ${absent.join(', ')}`,
        400,
      );
    }
    await tx.putNode({ ...node, properties });
    return { created, path };
  });
  // Which fields changed, never their values: some are secrets.
  await audit({
    type: 'config.changed',
    actor: actor.userId,
    target: path,
    details: { kind, name, fields: [...values.keys()], created: result.created },
  });
  return result;
}
