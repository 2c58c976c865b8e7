import { SharedAccounts } from '../../auth/throttle.js';
import type { Config } from '../../config/load.js';
import { holdDataFolder } from '../../fs/pid-file.js';
import { createAdmins } from '../../runtime/admin.js';
import type { RunningIms } from '../../runtime/ims.js';
import { startIms } from '../../runtime/ims.js';
import { initializeKeys } from '../../runtime/initialize-keys.js';
import { type RunningInstance, startInstance } from '../../runtime/instance.js';
import type { StartGuard } from '../shutdown.js';
import { shellPath, startBanner } from './banner.js';
import { planStart, type StartFlags, type StartPlan } from './plan.js';
import { explainPortInUse } from './port-in-use.js';
import { followScheme, recordedLoopbackPort } from './public-url-scheme.js';
import { startTls } from './tls.js';

/**
 * `latchkey start`, step by step. Each step can fail without leaving an admin whose password
 * nobody saw:
 * 1. every option is read and checked (a bad flag, file or variable stops here, nothing written);
 * 2. the keys are made once (through the author's store, before two stores could race), and the
 *    IMS's HTTPS is prepared: the data folder's local CA and certificate (see ./tls.ts);
 * 3. the IMS, then the author, open their stores and listen (a port in use, an unreadable TLS
 *    file stop here; what started is closed again);
 * 4. a signal received so far stops the start here;
 * 5. only now the admin of each store that lacks one is created, with one password (configured
 *    or generated), and the banner shows it; a signal waits for this step.
 */
export async function runStart(flags: StartFlags, guard: StartGuard): Promise<void> {
  const plan = planStart(flags);
  await initializeKeys(plan.author, true);
  const tls = await startTls(plan.ims);
  const schemeNote = await followScheme(tls.ims);
  // One admin, one password: a guess at either server counts at both (see SharedAccounts).
  const accounts = new SharedAccounts();
  const ims = await explainPortInUse(startQuickstartIms(tls.ims, accounts), {
    name: 'IMS',
    port: plan.ims.port,
    flag: '--ims-port',
  });
  let author: RunningInstance;
  try {
    author = await explainPortInUse(
      startInstance(tls.author(plan.authorWith(ims.url)), {
        createAdmin: false,
        quickstart: true,
        accounts,
      }),
      { name: 'author', port: plan.author.port, flag: '--port' },
    );
  } catch (err) {
    await ims.close();
    throw err;
  }
  // The folder's running servers, so that commands that must not change it meanwhile refuse.
  const releaseAuthor = holdDataFolder(plan.author.data, 'author');
  const releaseIms = holdDataFolder(plan.ims.data, 'ims');
  const close = async () => {
    await author.close();
    await ims.close();
    releaseAuthor();
    releaseIms();
  };
  try {
    await guard.checkpoint(close);
    const notes = [...tls.notes, ...(schemeNote ? [schemeNote] : []), ...movedNote(ims, plan)];
    await guard.critical(() => createAdminsAndShowBanner(plan, author, ims, notes, tls.localCa));
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
  guard.running(close);
}

/**
 * When the IMS listens elsewhere than the public URL its store recorded (another `--ims-port`
 * than before, or the recorded port taken): the banner says so, since clients following
 * credentials, tokens or the discovery document then call an address nothing answers at.
 */
function movedNote(ims: RunningIms, plan: StartPlan): string[] {
  if (!ims.url || ims.publicUrl.url === ims.url || plan.ims.ims.publicUrl !== undefined) return [];
  return [
    `the IMS's public URL is still ${ims.publicUrl.url} (recorded by an earlier start): credentials and tokens name it, not ${ims.url}`,
    `  to move it: stop latchkey, then: npx latchkey ims public-url ${ims.url} --data ${shellPath(plan.ims.data, process.cwd())}`,
  ];
}

/**
 * The IMS of `latchkey start`. Asked for any free port, it first tries the one its recorded public
 * URL names (see {@link recordedLoopbackPort}), so that a restart keeps one issuer; if that port
 * is taken, any free one (the IMS then warns that it listens elsewhere than its public URL).
 */
async function startQuickstartIms(config: Config, accounts: SharedAccounts): Promise<RunningIms> {
  const options = { createAdmin: false, quickstart: true, accounts } as const;
  const port = await recordedLoopbackPort(config);
  if (port !== undefined) {
    try {
      return await startIms({ ...config, port }, options);
    } catch (err) {
      if ((err as NodeJS.ErrnoException | undefined)?.code !== 'EADDRINUSE') throw err;
    }
  }
  return startIms(config, options);
}

async function createAdminsAndShowBanner(
  plan: StartPlan,
  author: RunningInstance,
  ims: RunningIms,
  trust: readonly string[],
  /** The local CA the user's programs trust (next steps name it). */
  ca: string | undefined,
): Promise<void> {
  const result = await createAdmins(
    [
      { name: 'author', account: author.admin },
      { name: 'IMS', account: ims.admin },
    ],
    plan.adminPassword,
  );
  const generated = result.generatedPassword
    ? { password: result.generatedPassword, servers: result.created }
    : undefined;
  if (result.failure !== undefined) {
    // The admin of one server has the password: show it before the failure.
    if (generated) {
      process.stdout.write(
        `admin password of the ${generated.servers.join(' and ')} (user admin; shown only now): ${generated.password}\n`,
      );
    }
    throw result.failure;
  }
  process.stdout.write(
    startBanner({
      authorUrl: author.url,
      imsUrl: ims.url,
      data: plan.author.data,
      ...(generated ? { generated } : {}),
      createdWithConfigured: result.created.length > 0 && !generated,
      trust,
      ...(ca ? { ca } : {}),
    }),
  );
}
