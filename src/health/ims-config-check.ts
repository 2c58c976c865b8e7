import { TtlCache } from '../cache/ttl-cache.js';
import { type ExchangeError, exchange } from '../client/exchange.js';
import type { KeyringHolder } from '../crypto/holder.js';
import { checkProtectedConfigs, readProtectedConfig } from '../protected-config/read.js';
import type { HealthCheck } from './registry.js';

/** How long one IMS configuration's result is kept: health may be polled every few seconds. */
const KEEP_MS = 60_000;

interface Outcome {
  readonly ok: boolean;
  readonly message: string;
}

/**
 * Whether each IMS configuration (`/conf/latchkey/ims/<name>`) really obtains a token: its
 * secrets are opened and exchanged at its `imsEndpoint` as the client library does (a JWT signed
 * with its private key, `/ims/exchange/jwt`). Red when one cannot (its secret does not open, the
 * IMS refuses it, or the IMS cannot be reached: the message says which). Each result is kept one
 * minute; a changed configuration is checked again at once.
 */
export function imsConfigCheck(holder: KeyringHolder, fetchImpl: typeof fetch): HealthCheck {
  // By configuration name, with the stored values it was checked with.
  const results = new TtlCache<string, { values: string; outcome: Promise<Outcome> }>({
    ttlMs: KEEP_MS,
    max: 1000,
  });

  const check = async (name: string): Promise<Outcome> => {
    let c: Record<string, string>;
    try {
      c = await readProtectedConfig(holder.location.store, holder.keyring, 'ims', name);
    } catch (err) {
      return { ok: false, message: `ims/${name}: ${(err as Error).message}` };
    }
    try {
      const token = await exchange(
        {
          integration: {
            imsEndpoint: c['imsEndpoint'] ?? '',
            metascopes: c['metascopes'] ?? '',
            technicalAccount: {
              clientId: c['clientId'] ?? '',
              clientSecret: c['clientSecret'] ?? '',
            },
            id: c['technicalAccountId'] ?? '',
            org: c['org'] ?? '',
            privateKey: c['privateKey'] ?? '',
          },
        },
        { fetch: fetchImpl },
      );
      return {
        ok: true,
        message: `ims/${name}: token obtained from ${c['imsEndpoint']} (valid ${Math.round(token.expires_in / 3_600_000)} h)`,
      };
    } catch (err) {
      const e = err as ExchangeError;
      const why =
        e.status > 0
          ? `the IMS at ${c['imsEndpoint']} refused: ${e.code} (${e.message})`
          : e.message;
      return { ok: false, message: `ims/${name}: no token: ${why}` };
    }
  };

  return {
    name: 'ims-configurations',
    async run() {
      const all = (await checkProtectedConfigs(holder.location.store, holder.keyring)).filter(
        (c) => c.kind === 'ims',
      );
      if (all.length === 0) return { status: 'green', message: 'no IMS configuration' };
      const outcomes = await Promise.all(
        all.map(async (c) => {
          // The stored values count too: a changed configuration is checked again at once.
          const node = await holder.location.store.getNode(c.path);
          const values = JSON.stringify(node?.properties ?? null);
          let entry = results.get(c.name);
          if (entry?.values !== values) {
            entry = { values, outcome: check(c.name) };
            results.set(c.name, entry);
          }
          return entry.outcome;
        }),
      );
      const failed = outcomes.filter((o) => !o.ok);
      return failed.length > 0
        ? {
            status: 'red',
            message: failed.map((o) => o.message).join(' | '),
            fix: 'Check each failing configuration against the Developer Console: an invalid_client answer means its clientSecret or certificate no longer matches the integration (post the current credentials again to /system/console/configs/ims/<name>); an unreachable IMS means its imsEndpoint is wrong or the IMS is down.',
          }
        : { status: 'green', message: outcomes.map((o) => o.message).join(' | ') };
    },
  };
}
