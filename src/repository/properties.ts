import { LatchkeyError } from '../errors.js';
import type { Json } from '../store/types.js';
import { isWellFormed } from './path.js';

/**
 * Typed properties, as JCR has them. Stored as `{type, values, multiple}`; Long values are kept as
 * decimal strings (64-bit range, beyond what a JS number holds exactly), Binary as base64, Date as
 * an ISO 8601 UTC string.
 */
export const PROPERTY_TYPES = [
  'String',
  'Long',
  'Double',
  'Boolean',
  'Date',
  'Binary',
  'Name',
  'Path',
] as const;
export type PropertyType = (typeof PROPERTY_TYPES)[number];

export interface Property {
  readonly type: PropertyType;
  readonly multiple: boolean;
  readonly values: readonly (string | number | boolean)[];
}

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

function invalidValue(name: string, message: string): LatchkeyError {
  return new LatchkeyError('invalid_property', `property ${name}: ${message}`, 400);
}

/** Converts one textual value (as a form sends it) to the stored form of `type`. */
export function convertValue(
  name: string,
  type: PropertyType,
  text: string,
): string | number | boolean {
  if (!isWellFormed(text)) throw invalidValue(name, 'malformed character (a lone surrogate)');
  switch (type) {
    case 'String':
    case 'Name':
    case 'Path':
      return text;
    case 'Long': {
      const t = text.trim();
      if (!/^[-+]?\d{1,19}$/.test(t)) throw invalidValue(name, 'not a Long');
      const n = BigInt(t);
      if (n < LONG_MIN || n > LONG_MAX) throw invalidValue(name, 'Long out of 64-bit range');
      return n.toString();
    }
    case 'Double': {
      const n = Number(text.trim());
      if (text.trim() === '' || !Number.isFinite(n))
        throw invalidValue(name, 'not a finite Double');
      return n;
    }
    case 'Boolean': {
      // JCR: "true" (any case) is true, everything else false.
      return text.trim().toLowerCase() === 'true';
    }
    case 'Date': {
      const ms = Date.parse(text.trim());
      if (Number.isNaN(ms)) throw invalidValue(name, 'not a date (use ISO 8601)');
      return new Date(ms).toISOString();
    }
    case 'Binary':
      return Buffer.from(text, 'utf8').toString('base64');
  }
}

export function parseTypeHint(
  name: string,
  hint: string | undefined,
): { type: PropertyType; multiple: boolean | undefined } {
  if (hint === undefined || hint === '') return { type: 'String', multiple: undefined };
  const multiple = hint.endsWith('[]');
  const base = multiple ? hint.slice(0, -2) : hint;
  const type = PROPERTY_TYPES.find((t) => t.toLowerCase() === base.toLowerCase());
  if (!type) throw invalidValue(name, `unknown type hint ${JSON.stringify(hint.slice(0, 40))}`);
  return { type, multiple: multiple ? true : undefined };
}

export function makeProperty(
  name: string,
  type: PropertyType,
  texts: readonly string[],
  multiple: boolean,
): Property {
  return { type, multiple, values: texts.map((t) => convertValue(name, type, t)) };
}

export function stringProperty(value: string | readonly string[]): Property {
  return typeof value === 'string'
    ? { type: 'String', multiple: false, values: [value] }
    : { type: 'String', multiple: true, values: [...value] };
}

export function binaryProperty(data: Buffer): Property {
  return { type: 'Binary', multiple: false, values: [data.toString('base64')] };
}

export function toStored(p: Property): Json {
  return { type: p.type, multiple: p.multiple, values: [...p.values] };
}

export function fromStored(json: Json): Property | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const { type, multiple, values } = json as Record<string, Json>;
  if (typeof type !== 'string' || !Array.isArray(values)) return undefined;
  return {
    type: type as PropertyType,
    multiple: multiple === true,
    values: values as (string | number | boolean)[],
  };
}

/** First value as a string, for the common single-valued String property. */
export function readString(
  properties: Readonly<Record<string, Json>>,
  name: string,
): string | undefined {
  const p = fromStored(properties[name] ?? null);
  const v = p?.values[0];
  return typeof v === 'string' ? v : undefined;
}

export function readStrings(properties: Readonly<Record<string, Json>>, name: string): string[] {
  const p = fromStored(properties[name] ?? null);
  return p ? p.values.filter((v): v is string => typeof v === 'string') : [];
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** Sling's JSON date format (`EEE MMM dd yyyy HH:mm:ss 'GMT'Z`), in UTC. */
export function formatSlingDate(iso: string): string {
  const d = new Date(iso);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} GMT+0000`;
}

/**
 * Renders a property as Sling's JSON servlet does: the name, and the value(s) as JSON; a Binary
 * property renders as `":name": <length in bytes>`.
 */
export function renderProperty(name: string, p: Property): [string, Json] {
  const one = (v: string | number | boolean): Json => {
    switch (p.type) {
      case 'Long': {
        const n = Number(v);
        return Number.isSafeInteger(n) ? n : String(v);
      }
      case 'Date':
        return formatSlingDate(String(v));
      case 'Binary':
        return Buffer.byteLength(String(v), 'base64');
      default:
        return v;
    }
  };
  const key = p.type === 'Binary' ? `:${name}` : name;
  return [key, p.multiple ? p.values.map(one) : one(p.values[0] ?? '')];
}

/**
 * Sets an own, enumerable property, whatever its name: `obj[name] = v` with a user's name such
 * as `__proto__` would set the object's prototype instead (and the value would silently vanish).
 */
export function setOwn<T>(obj: Record<string, T>, name: string, value: T): void {
  Object.defineProperty(obj, name, { value, enumerable: true, writable: true, configurable: true });
}
