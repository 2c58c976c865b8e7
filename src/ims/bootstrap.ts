import { randomBytes } from 'node:crypto';
import type { Store } from '../store/types.js';
import { type Environment, NS, type Organization } from './model.js';

/**
 * A new IMS has one organization with program 1 and its environment 1 (`p1-e1`), ready for
 * `latchkey credentials create --environment p1-e1`. Runs once per store.
 */
export async function bootstrapIms(
  store: Store,
): Promise<{ org: Organization; environment: Environment }> {
  return store.transaction(async (tx) => {
    const existing = await tx.listRecords(NS.org, { limit: 1 });
    let org = existing[0]?.value as unknown as Organization | undefined;
    if (!org) {
      org = {
        id: `${randomBytes(12).toString('hex').toUpperCase()}@AdobeOrg`,
        name: 'Default organization',
      };
      await tx.putRecord(NS.org, org.id, { ...org });
    }
    let environment = (await tx.getRecord(NS.environment, 'p1-e1'))?.value as unknown as
      | Environment
      | undefined;
    if (!environment) {
      environment = { id: 'p1-e1', program: 1, environment: 1, orgId: org.id };
      await tx.putRecord(NS.environment, environment.id, { ...environment });
    }
    return { org, environment };
  });
}
