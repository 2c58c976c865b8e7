// Preloaded with `node --import` by test/cli/startup.test.ts: records the URL of every module
// the process loads (through the ESM loader) into the file LATCHKEY_TRACE_IMPORTS names.
import { register } from 'node:module';

register('./trace-imports-hooks.mjs', import.meta.url);
