import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { ServiceCredentials } from '../../src/ims/credentials.js';
import { createCredentials } from '../../src/ims/credentials.js';
import { type RunningIms, startIms } from '../../src/runtime/ims.js';

export const IMS_ADMIN_PASSWORD = 'ims-admin-password';

/** A listening IMS on a free port, on a fresh SQLite store. */
export async function testIms(): Promise<
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
    },
  });
  const ims = await startIms(config, { logger: false });
  const endpoint = ims.url.replace(/^https?:\/\//, '');
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
