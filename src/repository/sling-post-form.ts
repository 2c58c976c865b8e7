import { LatchkeyError } from '../errors.js';
import { isValidName } from './path.js';
import { binaryProperty, makeProperty, type Property, parseTypeHint } from './properties.js';

/** A parsed form: text fields (each possibly repeated) and uploaded files. */
export interface FormData {
  readonly fields: ReadonlyMap<string, readonly string[]>;
  readonly files: ReadonlyMap<string, Buffer>;
}

export interface NodeChanges {
  readonly set: ReadonlyMap<string, Property>;
  readonly remove: ReadonlySet<string>;
  /** `jcr:primaryType` given in the form (applies when the node is created). */
  readonly primaryType: string | undefined;
}

const SUFFIXES = new Set(['TypeHint', 'Delete']);
/** Node types of users, groups, tokens, keys and latchkey's own configurations. */
const SYSTEM_TYPE_PREFIXES = ['rep:', 'latchkey:', 'sling:osgiconfig'];

function invalid(message: string): LatchkeyError {
  return new LatchkeyError('invalid_property', message, 400);
}

/**
 * Reads Sling POST fields into property changes: `name=value` (repeat for multiple values),
 * `name@TypeHint=Long` (also `Long[]`), `name@Delete`, an empty value to remove a property,
 * `./name` as `name`. Fields starting with `:` are operation parameters and are skipped here.
 * Uploaded files become Binary properties named after their field.
 */
export function parseSlingPost(form: FormData): NodeChanges {
  const values = new Map<string, readonly string[]>();
  const hints = new Map<string, string>();
  const remove = new Set<string>();
  for (const [rawName, fieldValues] of form.fields) {
    if (rawName.startsWith(':') || rawName === '_charset_') continue;
    const at = rawName.indexOf('@');
    const name = stripDotSlash(at === -1 ? rawName : rawName.slice(0, at));
    checkPropertyName(name);
    if (at === -1) {
      values.set(name, fieldValues);
      continue;
    }
    const suffix = rawName.slice(at + 1);
    if (!SUFFIXES.has(suffix)) throw invalid(`unsupported field suffix @${suffix.slice(0, 40)}`);
    if (suffix === 'Delete') remove.add(name);
    else hints.set(name, fieldValues[fieldValues.length - 1] ?? '');
  }

  let primaryType: string | undefined;
  const set = new Map<string, Property>();
  for (const [name, texts] of values) {
    if (name === 'jcr:primaryType') {
      primaryType = texts[texts.length - 1];
      if (!primaryType || !/^[A-Za-z][\w-]*:[\w-]+$|^[A-Za-z][\w-]*$/.test(primaryType)) {
        throw invalid('jcr:primaryType must be a node type name such as nt:unstructured');
      }
      // System types exist only where their own operations create them: a rep:User under
      // /content would pass for a user, a rep:Token for a session.
      if (SYSTEM_TYPE_PREFIXES.some((p) => primaryType!.toLowerCase().startsWith(p))) {
        throw invalid(
          `jcr:primaryType ${primaryType} is a system type, created only by its own operation (the user admin, login, the configuration consoles)`,
        );
      }
      continue;
    }
    const { type, multiple } = parseTypeHint(name, hints.get(name));
    const nonEmpty = texts.filter((t) => t !== '');
    if (nonEmpty.length === 0 && !(multiple && texts.length > 1)) {
      remove.add(name); // Sling: an empty value removes the property
      continue;
    }
    const isMulti = multiple ?? texts.length > 1;
    set.set(name, makeProperty(name, type, isMulti ? nonEmpty : [nonEmpty[0]!], isMulti));
  }
  for (const [rawName, data] of form.files) {
    const name = stripDotSlash(rawName);
    checkPropertyName(name);
    set.set(name, binaryProperty(data));
  }
  for (const name of remove) set.delete(name);
  return { set, remove, primaryType };
}

function stripDotSlash(name: string): string {
  return name.startsWith('./') ? name.slice(2) : name;
}

/**
 * The one check of a property name a request may set or remove (a Sling POST, the System
 * Console): a single path segment, not a protected `rep:` property. Throws 400 `invalid_property`.
 */
export function checkPropertyName(name: string): void {
  if (!isValidName(name) || name.includes('/')) {
    throw invalid('property names must be single path segments (no /, [, ], |, *)');
  }
  if (name.startsWith('rep:')) throw invalid('rep: properties are protected');
}
