import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cliInCheckout,
  freshCheckout,
  type StartedProcess,
  startAsUser,
  userEnv,
} from '../helpers/quick-start.js';

// The IMS of `latchkey start` (HTTPS with the data folder's local CA) as a user meets it: a fresh
// checkout, `start --ims-port 0`, credentials from `latchkey credentials create`, and the real
// openid-client and latchkey's client library, trusting the CA with NODE_EXTRA_CA_CERTS only. The
// tokens' iss, the discovery issuer and the credentials' imsEndpoint name one IMS, also after a
// restart on "any free port", and the author accepts the tokens.

const CLIENT = fileURLToPath(new URL('./clients/openid-client.mjs', import.meta.url));

// The README's "Clients" section: its snippets and how it says to trust start's IMS.
const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const at = readme.indexOf('\n## Clients\n');
const section = readme.slice(at, readme.indexOf('\n## ', at + 1));
const snippets = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
const trust = /`latchkey start`'s IMS[^`]*`NODE_EXTRA_CA_CERTS=(\S+) node app\.mjs`/.exec(
  section,
)?.[1];

let dir: string;
let running: StartedProcess | undefined;
beforeAll(() => {
  dir = freshCheckout();
});
afterAll(async () => {
  await running?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function start(): Promise<{ ims: string; author: string; proc: StartedProcess }> {
  const { proc } = await startAsUser(dir, ['--port', '0', '--ims-port', '0']);
  running = proc;
  const out = proc.stdout();
  const ims = /latchkey ims listening on (\S+)/.exec(out)![1]!;
  const author = /latchkey author listening on (\S+)/.exec(out)![1]!;
  return { ims, author, proc };
}

function node(
  args: string[],
  source?: string,
  ca = join(dir, 'latchkey-data', 'tls', 'ca.crt'),
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, source ? ['--input-type=module'] : args, {
      cwd: dir,
      env: userEnv({ NODE_EXTRA_CA_CERTS: ca }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(source ?? '');
  });
}

/** Tokens of openid-client and of the client library, checked against the IMS at `ims`. */
async function clientsAgree(ims: string, author: string): Promise<void> {
  const credentials = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8'));
  expect(`https://${credentials.integration.imsEndpoint}`).toBe(ims);
  const run = await node([CLIENT]);
  expect(run.code, run.stderr).toBe(0);
  const out = JSON.parse(run.stdout);
  expect(out.metadata.issuer).toBe(`${ims}/ims`);
  expect(out.metadataEqual).toBe(true);
  const lib = await node(
    [],
    `import { readFileSync } from 'node:fs';
     import { exchange } from 'latchkey/client';
     const t = await exchange(JSON.parse(readFileSync('credentials.json', 'utf8')));
     process.stdout.write(t.access_token);`,
  );
  expect(lib.code, lib.stderr).toBe(0);
  for (const token of [...Object.values(out.tokens as Record<string, string>), lib.stdout]) {
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(claims.iss).toBe(`${ims}/ims`);
    const res = await fetch(`${author}/content/dam.json`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
  }
}

describe("latchkey start's IMS with real clients", () => {
  it('one issuer for tokens, discovery and credentials, also after a restart on any free port', async () => {
    let third: Awaited<ReturnType<typeof start>>;
    const first = await start();
    const created = await cliInCheckout(dir, [
      'credentials',
      'create',
      '--data',
      'latchkey-data',
      '--out',
      'credentials.json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    await clientsAgree(first.ims, first.author);

    // Each snippet of the README's "Clients" section as printed, trusting the IMS as it says.
    expect(trust).toBe('latchkey-data/tls/ca.crt');
    expect(snippets.length).toBeGreaterThanOrEqual(4);
    for (const [n, source] of snippets.entries()) {
      const run = await node([], source, trust);
      expect(run.code, `snippet ${n + 1}: ${run.stderr}`).toBe(0);
      const token = /eyJ[\w-]+\.[\w-]+\.[\w-]+\s*$/.exec(run.stdout)?.[0].trim();
      expect(token, run.stdout).toBeDefined();
      const claims = JSON.parse(Buffer.from(token!.split('.')[1]!, 'base64url').toString());
      expect(claims.iss, `snippet ${n + 1}`).toBe(`${first.ims}/ims`);
    }
    await first.proc.stop();

    // Any free port again: the IMS listens where its issuer and the credentials say.
    const second = await start();
    expect(second.ims).toBe(first.ims);
    await clientsAgree(second.ims, second.author);
    await second.proc.stop();

    // That port taken by another program: another one, and a warning naming the fix.
    const holder: Server = createServer();
    await new Promise<void>((resolve) =>
      holder.listen(Number(new URL(first.ims).port), '127.0.0.1', resolve),
    );
    try {
      third = await start();
      expect(third.ims).not.toBe(first.ims);
      // The banner says so, with the command that moves it (as printed, it works once stopped).
      expect(third.proc.stdout()).toContain(
        `the IMS's public URL is still ${first.ims} (recorded by an earlier start)`,
      );
      expect(third.proc.stdout()).toContain(
        `to move it: stop latchkey, then: npx latchkey ims public-url ${third.ims} --data latchkey-data`,
      );
      await third.proc.stop();
      const moved = await cliInCheckout(dir, [
        'ims',
        'public-url',
        third.ims,
        '--data',
        'latchkey-data',
      ]);
      expect(moved.code, moved.stderr).toBe(0);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    // Moved: the next start on any free port listens there, without the note.
    const fourth = await start();
    expect(fourth.ims).toBe(new URL(third.ims).origin);
    expect(fourth.proc.stdout()).not.toContain('public URL is still');
    await fourth.proc.stop();
  }, 120_000);
});
