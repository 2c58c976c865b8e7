import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startServer } from '../helpers/process.js';

const root = mkdtempSync(join(tmpdir(), 'lk-ims-url-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const data = join(root, 'ims');
const issuerAt = async (url: string) =>
  (
    (await (await fetch(`${url}/ims/.well-known/openid-configuration`)).json()) as {
      issuer: string;
    }
  ).issuer;

describe("the deployment's one public URL", () => {
  it('is recorded by the first start and kept by later ones; changing it is latchkey ims public-url', async () => {
    const first = await startServer(['serve', 'ims', '--port', '0', '--data', data]);
    const recorded = first.url;
    try {
      expect(await issuerAt(first.url)).toBe(`${recorded}/ims`);
    } finally {
      await first.stop();
    }

    // Regression: the last process to start used to record its own address, so a restart on
    // another port silently changed the issuer of every token and the imsEndpoint of credentials.
    const moved = await startServer(['serve', 'ims', '--port', '0', '--data', data]);
    try {
      expect(moved.url).not.toBe(recorded);
      expect(await issuerAt(moved.url)).toBe(`${recorded}/ims`);
      expect(moved.stdout()).toContain(`latchkey ims public-url ${moved.url}`);
    } finally {
      await moved.stop();
    }
    const shown = await runCli(['ims', 'public-url', '--data', data]);
    expect(shown.stdout.trim()).toBe(recorded);

    // A configured URL that contradicts the recorded one stops the process, naming the fix.
    const refused = await runCli([
      'serve',
      'ims',
      '--port',
      '0',
      '--data',
      data,
      '--public-url',
      'https://ims.example',
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`this deployment's IMS public URL is ${recorded}`);
    expect(refused.stderr).toContain('latchkey ims public-url https://ims.example');

    const changed = await runCli(['ims', 'public-url', 'https://IMS.example:443/', '--data', data]);
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toContain(`changed from ${recorded} to https://ims.example`);
    const bad = await runCli([
      'ims',
      'public-url',
      'https://ims.example/some/path',
      '--data',
      data,
    ]);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('no path')]);

    const after = await startServer([
      'serve',
      'ims',
      '--port',
      '0',
      '--data',
      data,
      '--public-url',
      'https://ims.example',
    ]);
    try {
      expect(await issuerAt(after.url)).toBe('https://ims.example/ims');
      const created = await runCli([
        'credentials',
        'create',
        '--environment',
        'p1-e1',
        '--data',
        data,
      ]);
      expect(JSON.parse(created.stdout).integration.imsEndpoint).toBe('ims.example');
    } finally {
      await after.stop();
    }
  }, 120_000);
});
