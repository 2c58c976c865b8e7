/**
 * Prints a command's report: with `--json`, `value` as one JSON document (what scripts parse);
 * otherwise the lines `text` makes for people. Every command that reports takes `--json`.
 */
export function printReport<T>(json: unknown, value: T, text: (value: T) => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text(value));
}
