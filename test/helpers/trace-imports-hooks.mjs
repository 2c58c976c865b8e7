// Loader hooks for trace-imports.mjs (they run on the loader's own thread).
import { appendFileSync } from 'node:fs';

export async function load(url, context, nextLoad) {
  const out = process.env.LATCHKEY_TRACE_IMPORTS;
  if (out) appendFileSync(out, `${url}\n`);
  return nextLoad(url, context);
}
