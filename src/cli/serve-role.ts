import type { Config } from '../config/load.js';
import { holdDataFolder } from '../fs/pid-file.js';
import { createAdmin } from '../runtime/admin.js';
import { printReady } from './commands/serve.js';
import type { StartGuard } from './shutdown.js';

/**
 * `latchkey serve ROLE`: starts the server, and only once it listens creates its admin (a start
 * that fails earlier leaves none whose password nobody saw) and prints the password, which no
 * signal interrupts.
 */
export async function serveRole(config: Config, guard: StartGuard): Promise<void> {
  const server =
    config.role === 'ims'
      ? await (await import('../runtime/ims.js')).startIms(config, { createAdmin: false })
      : await (await import('../runtime/instance.js')).startInstance(config, {
          createAdmin: false,
        });
  // The folder's running server, so that commands that must not change it meanwhile refuse.
  const release = holdDataFolder(config.data, config.role);
  const close = async () => {
    await server.close();
    release();
  };
  try {
    await guard.checkpoint(close);
    await guard.critical(async () => {
      const created = await createAdmin(config.role, server.admin, config.adminPassword);
      printReady(config.role, server.url, created.generatedPassword);
    });
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
  guard.running(close);
}
