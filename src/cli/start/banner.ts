import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { START_ENVIRONMENT } from './plan.js';

/** What the banner of `latchkey start` shows. */
export interface BannerInfo {
  readonly authorUrl: string;
  readonly imsUrl: string;
  /** The data folder (absolute). */
  readonly data: string;
  /** The admin password this start generated, and whose admin has it (first start only). */
  readonly generated?: { readonly password: string; readonly servers: readonly string[] };
  /** Whether this start created the admins with the configured password. */
  readonly createdWithConfigured?: boolean;
  /** Lines on how to trust the IMS's certificate, when it serves HTTPS. */
  readonly trust?: readonly string[];
  /** The data folder's local CA, when the IMS serves its certificate: clients must trust it. */
  readonly ca?: string;
  /** The folder commands are run from (default: this process's). */
  readonly cwd?: string;
}

/**
 * The banner `latchkey start` prints once both servers listen: their URLs, the admin password
 * on the first start, how to trust the IMS's certificate, and next steps that work when pasted
 * into a shell in the same folder. The `latchkey <role> listening on <url>` lines are what
 * scripts wait for; the author's comes last of them.
 */
export function startBanner(info: BannerInfo): string {
  const data = shellPath(info.data, info.cwd ?? process.cwd());
  const cli = 'npx latchkey';
  const lines: string[] = [
    '',
    `latchkey ims listening on ${info.imsUrl}   (Developer Console: ${info.imsUrl}/ims/console)`,
    `latchkey author listening on ${info.authorUrl}   (System Console: ${info.authorUrl}/system/console)`,
    '',
  ];
  if (info.generated) {
    lines.push(
      `admin password of the ${info.generated.servers.join(' and ')} (user admin; shown only now): ${info.generated.password}`,
    );
  } else if (info.createdWithConfigured) {
    lines.push('user admin created with the configured password (adminPassword)');
  } else {
    lines.push(
      'user admin: the password printed by the first start (or by admin reset-password since)',
    );
  }
  lines.push(`  forgot it? stop latchkey, then: ${cli} admin reset-password --data ${data}`);
  if (info.trust?.length) lines.push('', ...info.trust);
  // A CLI command that calls the IMS trusts its certificate as any Node program does.
  const ca = info.ca ? shellPath(info.ca, info.cwd ?? process.cwd()) : undefined;
  const trusting = ca ? `NODE_EXTRA_CA_CERTS=${ca} ` : '';
  // The author on HTTPS too (--author-https): curl checks its certificate against the same CA.
  const cacert = ca && info.authorUrl.startsWith('https:') ? `--cacert ${ca} ` : '';
  const { file: creds, exists } = credentialsFile(info.cwd ?? process.cwd(), info.imsUrl);
  lines.push(
    '',
    'next steps:',
    `  curl ${cacert}-u admin ${info.authorUrl}/content.1.json                       # asks for the password`,
    ...(exists
      ? []
      : [
          `  ${cli} credentials create --environment ${START_ENVIRONMENT} --data ${data} --out ${creds}`,
        ]),
    `  ${trusting}${cli} credentials exchange ${creds}   # an access token for the author`,
    '',
    `Ctrl-C stops latchkey; everything stays in ${data} for the next start.`,
    '',
  );
  return lines.join('\n');
}

/**
 * The credentials file the next steps use, so that each step works when pasted: `credentials
 * create` never overwrites a file, so once `credentials.json` exists (a later start in the same
 * folder) it is only exchanged, when it names this IMS; when it names another (an earlier start
 * on other ports or another data folder), a new `credentials-N.json` is created instead.
 */
function credentialsFile(cwd: string, imsUrl: string): { file: string; exists: boolean } {
  const host = new URL(imsUrl).host;
  for (let n = 1; ; n++) {
    const file = n === 1 ? 'credentials.json' : `credentials-${n}.json`;
    let text: string;
    try {
      text = readFileSync(join(cwd, file), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { file, exists: false };
      continue;
    }
    try {
      const endpoint = (JSON.parse(text) as { integration?: { imsEndpoint?: unknown } }).integration
        ?.imsEndpoint;
      if (endpoint === host) return { file, exists: true };
    } catch {
      // Not service credentials: leave it alone and look at the next name.
    }
  }
}

/** `path` as a shell word: relative to `cwd` when inside it, quoted when it needs to be. */
export function shellPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  const shown = rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
  return /^[\w@%+=:,./-]+$/.test(shown) ? shown : `'${shown.replace(/'/g, `'\\''`)}'`;
}
