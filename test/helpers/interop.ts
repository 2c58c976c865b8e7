import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceCredentials } from '../../src/ims/credentials.js';
import { testIms } from './ims.js';
import { type Server, startServer } from './process.js';
import { throwawayCa } from './tls.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface HttpsDeployment {
  readonly ims: Awaited<ReturnType<typeof testIms>>;
  /** The throwaway CA certificate the IMS's certificate chains to. */
  readonly ca: string;
  /** An author instance process trusting that CA, accepting the IMS's tokens (revocations pulled every second). */
  readonly author: Server;
  /** Status of `GET /content/dam.json` on the author with the token as a bearer token. */
  onAuthor(token: string): Promise<number>;
  /**
   * A folder holding `credentials.json` (new service credentials, as `latchkey credentials create`
   * writes them) where client code runs, able to import the packages of this checkout
   * (`node_modules` and `latchkey` itself) as an application that installed them would.
   */
  workspace(): Promise<{ dir: string; credentials: ServiceCredentials }>;
  /**
   * Runs ES module code (a file path, or source text) with Node in `cwd`, trusting the CA through
   * NODE_EXTRA_CA_CERTS as a user would, and resolves with its output.
   */
  node(
    code: { file: string } | { source: string },
    cwd: string,
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

/** The IMS over HTTPS (certificate from a throwaway CA) and an author process trusting it. */
export async function httpsDeployment(): Promise<HttpsDeployment> {
  const root = mkdtempSync(join(tmpdir(), 'lk-interop-'));
  const { ca, cert, key } = throwawayCa(root);
  const ims = await testIms({ 'tls.cert': cert, 'tls.key': key });
  let author: Server;
  try {
    author = await startServer(
      ['serve', 'author', '--port', '0', '--data', join(root, 'author'), '--ims', ims.url],
      {
        NODE_EXTRA_CA_CERTS: ca,
        LATCHKEY_ADMIN_PASSWORD: 'interop-admin',
        LATCHKEY_IMS_REVOCATION_POLL_MS: '1000',
      },
    );
  } catch (err) {
    await ims.close();
    throw err;
  }
  let workspaces = 0;
  return {
    ims,
    ca,
    author,
    onAuthor: async (token) =>
      (
        await fetch(`${author.url}/content/dam.json`, {
          headers: { authorization: `Bearer ${token}` },
        })
      ).status,
    workspace: async () => {
      const dir = join(root, `app-${++workspaces}`);
      mkdirSync(join(dir, 'node_modules'), { recursive: true });
      for (const name of ['openid-client', 'jose', '@adobe', 'node-fetch'])
        symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
      symlinkSync(ROOT, join(dir, 'node_modules', 'latchkey'));
      const credentials = await ims.credentials();
      writeFileSync(join(dir, 'credentials.json'), JSON.stringify(credentials, null, 2));
      return { dir, credentials };
    },
    node: (code, cwd) =>
      new Promise((resolve) => {
        const args = 'file' in code ? [code.file] : ['--input-type=module'];
        const child = spawn(process.execPath, args, {
          cwd,
          env: { ...process.env, NODE_EXTRA_CA_CERTS: ca },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => {
          stdout += d;
        });
        child.stderr.on('data', (d) => {
          stderr += d;
        });
        child.on('close', (exit) => resolve({ code: exit, stdout, stderr }));
        if ('source' in code) child.stdin.end(code.source);
        else child.stdin.end();
      }),
    close: async () => {
      await author.stop();
      await ims.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
