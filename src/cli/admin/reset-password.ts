import { commandAuditScope } from '../../audit/open.js';
import { runAudited } from '../../audit/record.js';
import { type Config, loadConfig } from '../../config/load.js';
import { openRoleStore } from '../../data-folder/open-role-store.js';
import { requireDataFolder, storesInFolder } from '../../data-folder/stores-in-folder.js';
import { LatchkeyError } from '../../errors.js';
import { runningServer } from '../../fs/pid-file.js';
import { setImsAdminPassword } from '../../ims/administrators.js';
import { bootstrapRepository, isRepositoryInitialized } from '../../repository/bootstrap.js';
import { createRepositoryContext } from '../../repository/context.js';
import { ADMIN_ID, ADMINISTRATORS, makeSubject } from '../../repository/subject.js';
import { changePassword } from '../../repository/users/change-password.js';
import { generateAdminPassword } from '../../runtime/admin.js';
import { readSecret } from '../read-secret.js';

export interface ResetPasswordFlags {
  readonly data?: string | undefined;
  readonly role?: string | undefined;
  readonly db?: string | undefined;
  readonly config?: string | undefined;
  readonly generate?: boolean | undefined;
}

/**
 * `latchkey admin reset-password`: a new password for `admin` on a stopped data folder, as
 * Keycloak's `bootstrap-admin` recovers a lost administrator. On every role whose store the
 * folder holds (`latchkey start`'s folder: the author and the IMS, one password), or `--role`'s.
 * Refuses while a server of the folder runs (its `<role>.pid`). The admin's sessions end: login
 * tokens of the author's admin, Developer Console sessions of the IMS's. A store whose admin was
 * never created (a first start that stopped before) gets it now.
 */
export async function resetAdminPassword(flags: ResetPasswordFlags): Promise<void> {
  const configs = targets(flags);
  for (const config of configs) {
    const pid = runningServer(config.data, config.role);
    if (pid !== undefined) {
      throw new LatchkeyError(
        'server_running',
        `a latchkey server (pid ${pid}) serves the ${config.role} of ${config.data}: stop it first (Ctrl-C, or kill ${pid}), then run this again`,
        409,
      );
    }
  }
  const password = flags.generate
    ? generateAdminPassword()
    : await readSecret('new admin password: ', 'the same again: ');
  for (const config of configs) await setPassword(config, password);
  const names = configs.map((c) => (c.role === 'ims' ? 'IMS' : c.role)).join(' and ');
  process.stdout.write(
    flags.generate
      ? `admin password of the ${names} (user admin; shown only now): ${password}\n`
      : `admin password of the ${names} set\n`,
  );
  process.stdout.write(`every session of admin ended\n`);
}

/** The configurations of the stores to change: `--role`'s, or every one the folder holds. */
function targets(flags: ResetPasswordFlags): Config[] {
  const load = (role: string | undefined) =>
    loadConfig({ flags: { data: flags.data, db: flags.db, role }, file: flags.config });
  if (flags.role !== undefined || flags.db !== undefined) return [load(flags.role)];
  const data = load(undefined).data;
  requireDataFolder(data);
  return storesInFolder(data).map((role) => load(role));
}

async function setPassword(config: Config, password: string): Promise<void> {
  // An existing store of that role only: a wrong --data or --role changes nothing.
  const store = await openRoleStore(config, { create: false });
  try {
    await runAudited(commandAuditScope(config, store), async () => {
      const cost = config.security.passwordHashCost;
      if (config.role === 'ims') return setImsAdminPassword(store, password, cost);
      const ctx = createRepositoryContext(store, { passwordHashCost: cost });
      if (!(await isRepositoryInitialized(store))) {
        await bootstrapRepository(ctx, { role: config.role, adminPassword: password });
        return;
      }
      // Whoever can run this command owns the data folder: it acts as the administrator.
      await changePassword(ctx, makeSubject(ADMIN_ID, [ADMINISTRATORS]), ADMIN_ID, password);
    });
  } finally {
    await store.close();
  }
}
