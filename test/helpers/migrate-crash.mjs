// Test-only entry for test/e2e/migrate-crash.test.ts: runs `keys migrate` exactly as the CLI does
// (same configuration, store and operation) and kills itself with SIGKILL, no clean-up, right
// after the migration step named on the command line. The production CLI has no such hook.
//
//   node test/helpers/migrate-crash.mjs DATA_DIR file|repository STEP
import { loadConfig } from '../../dist/config/load.js';
import { cryptoDirOf } from '../../dist/crypto/load-keyring.js';
import { migrateKeys } from '../../dist/crypto/migrate.js';
import { openStore } from '../../dist/store/open.js';

const [data, to, crashAfter] = process.argv.slice(2);
const config = loadConfig({ flags: { data } });
const store = await openStore(config.db);
await migrateKeys({ cryptoDir: cryptoDirOf(config.data), store }, to, (step) => {
  process.stdout.write(`  ${step}\n`);
  if (step === crashAfter) process.kill(process.pid, 'SIGKILL');
});
await store.close();
