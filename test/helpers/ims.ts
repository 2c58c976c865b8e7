import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OptionName } from '../../src/config/defaults.js';
import { loadConfig } from '../../src/config/load.js';
import type { ServiceCredentials } from '../../src/ims/credentials.js';
import { createCredentials } from '../../src/ims/credentials.js';
import { type RunningIms, startIms } from '../../src/runtime/ims.js';

export const IMS_ADMIN_PASSWORD = 'ims-admin-password';

/** A listening IMS on a free port, on a fresh SQLite store; `flags` adds options (TLS…). */
export async function testIms(
  flags: Partial<Record<OptionName, unknown>> = {},
  options: { logLines?: string[] } = {},
): Promise<
  RunningIms & {
    endpoint: string;
    dataDir: string;
    credentials: (environment?: string) => Promise<ServiceCredentials>;
  }
> {
  const data = mkdtempSync(join(tmpdir(), 'lk-ims-'));
  const config = loadConfig({
    env: {},
    flags: {
      role: 'ims',
      data,
      port: 0,
      logLevel: 'silent',
      adminPassword: IMS_ADMIN_PASSWORD,
      'security.passwordHashCost': 10,
      ...flags,
    },
  });
  const lines = options.logLines;
  const logger = lines
    ? { level: 'info', stream: { write: (line: string) => void lines.push(line) } }
    : false;
  const ims = await startIms(config, { logger });
  const endpoint = ims.publicUrl.imsEndpoint;
  return {
    ...ims,
    endpoint,
    dataDir: data,
    credentials: (environment = 'p1-e1') =>
      createCredentials(ims.store, { environment, imsEndpoint: endpoint }),
    close: async () => {
      await ims.close();
      rmSync(data, { recursive: true, force: true });
    },
  };
}
