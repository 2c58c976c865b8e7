import { LatchkeyError } from '../errors.js';
import type { AuditFilter } from './read.js';
import { AUDIT_TYPES } from './types.js';

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * An instant as people write it: `2026-05-01`, `2026-05-01T10:00:00Z`, or a time ago: `30s`,
 * `15m`, `2h`, `7d`. `label` names the input in the error (`--since`, `Since`).
 */
export function parseWhen(text: string, label: string, now = Date.now()): number {
  const ago = /^(\d{1,9})([smhd])$/.exec(text.trim());
  if (ago) return now - Number(ago[1]) * UNITS[ago[2]!]!;
  const at = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())
    ? Date.parse(text.trim())
    : Number.NaN;
  if (Number.isNaN(at)) {
    throw new LatchkeyError(
      'invalid_request',
      `${label} takes a date or time (2026-05-01, 2026-05-01T10:00:00Z) or a time ago (30s, 15m, 2h, 7d), got ${JSON.stringify(text.slice(0, 60))}`,
    );
  }
  return at;
}

/**
 * Event types as people give them, comma-separated: `login`, `keys.rotated`, or a group such as
 * `keys` (every `keys.*` type). An unknown one is an error that lists the known types.
 */
export function parseTypes(text: string, label: string): string[] {
  const types = text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  for (const t of types) {
    if (!AUDIT_TYPES.some((known) => known === t || known.startsWith(`${t}.`))) {
      throw new LatchkeyError(
        'invalid_request',
        `${label}: no event type ${JSON.stringify(t.slice(0, 60))}; types: ${AUDIT_TYPES.join(', ')}`,
      );
    }
  }
  return types;
}

/** The groups of types (`keys` for `keys.*`), for a choice of "every keys event". */
export const AUDIT_TYPE_GROUPS: readonly string[] = [
  ...new Set(AUDIT_TYPES.filter((t) => t.includes('.')).map((t) => t.split('.')[0]!)),
].filter((group) => AUDIT_TYPES.filter((t) => t.startsWith(`${group}.`)).length > 1);

/** A filter input that cannot be read; `field` says which (`since`, `until`, `type`). */
export class AuditFilterError extends LatchkeyError {
  override readonly name = 'AuditFilterError';
  readonly field: 'since' | 'until' | 'type';
  constructor(field: 'since' | 'until' | 'type', cause: LatchkeyError) {
    super(cause.code, cause.message, cause.status);
    this.field = field;
  }
}

/**
 * The filter of an audit query as people type it (the `latchkey audit` flags, the System
 * Console's Audit form); an empty input filters nothing. An error names the input by its label
 * in `labels` and, as {@link AuditFilterError.field}, which one it is.
 *
 * @example
 * ```ts
 * const filter = parseAuditFilter({ since: '2h', type: 'login' }, { since: '--since', until: '--until', type: '--type' });
 * const lines = await readAudit(source, filter);
 * ```
 */
export function parseAuditFilter(
  input: {
    readonly since?: string | undefined;
    readonly until?: string | undefined;
    readonly user?: string | undefined;
    readonly type?: string | undefined;
  },
  labels: { readonly since: string; readonly until: string; readonly type: string },
  now = Date.now(),
): AuditFilter {
  const given = (v: string | undefined) => (v !== undefined && v.trim() !== '' ? v : undefined);
  const read = <T>(field: 'since' | 'until' | 'type', parse: (text: string) => T) => {
    const text = given(input[field]);
    if (text === undefined) return undefined;
    try {
      return parse(text);
    } catch (err) {
      throw err instanceof LatchkeyError ? new AuditFilterError(field, err) : err;
    }
  };
  const since = read('since', (t) => parseWhen(t, labels.since, now));
  const until = read('until', (t) => parseWhen(t, labels.until, now));
  // An empty window is a mistake (the two swapped), not a question whose answer is nothing.
  if (since !== undefined && until !== undefined && until < since)
    throw new AuditFilterError(
      'until',
      new LatchkeyError(
        'invalid_request',
        `${labels.until} is before ${labels.since}, so no event can match: swap them`,
      ),
    );
  return {
    since,
    until,
    user: given(input.user)?.trim(),
    types: read('type', (t) => parseTypes(t, labels.type)),
  };
}
