import type { AuditLine } from './types.js';

/** A line's details for people: `key=value` (lists comma-separated), then `count=N` if repeated. */
export function formatDetails(line: AuditLine): string {
  const parts = Object.entries(line.details ?? {}).map(
    ([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`,
  );
  if (line.count !== undefined) parts.push(`count=${line.count}`);
  return parts.join(' ');
}

/**
 * One line for people (what `latchkey audit` prints): time, type, outcome, who, on what, from
 * where, which server, then the details.
 */
export function formatLine(line: AuditLine): string {
  const parts = [line.time, line.type, line.outcome, `actor=${line.actor}`];
  if (line.target !== undefined) parts.push(`target=${line.target}`);
  if (line.address !== undefined) parts.push(`from=${line.address}`);
  parts.push(`${line.role}@${line.instance}`);
  const details = formatDetails(line);
  if (details !== '') parts.push(details);
  return parts.join(' ');
}
