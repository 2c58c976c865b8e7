import type { Store } from '../store/types.js';
import { type Environment, NS, type Organization } from './model.js';

/** An organization with its programs and their environments, as the Developer Console navigates them. */
export interface OrganizationNode {
  readonly org: Organization;
  readonly programs: readonly { program: number; environments: readonly Environment[] }[];
}

/**
 * Organizations → programs → environments, ordered by number; only the environments in
 * `visible` when given (a developer's), and only organizations that then have one.
 */
export async function organizationTree(
  store: Store,
  visible?: readonly string[],
): Promise<OrganizationNode[]> {
  const orgs = (await store.listRecords(NS.org)).map((r) => r.value as unknown as Organization);
  const envs = (await store.listRecords(NS.environment))
    .map((r) => r.value as unknown as Environment)
    .filter((e) => visible === undefined || visible.includes(e.id))
    .sort((a, b) => a.program - b.program || a.environment - b.environment);
  const out: OrganizationNode[] = [];
  for (const org of orgs) {
    const mine = envs.filter((e) => e.orgId === org.id);
    if (visible !== undefined && mine.length === 0) continue;
    const programs = [...new Set(mine.map((e) => e.program))].map((program) => ({
      program,
      environments: mine.filter((e) => e.program === program),
    }));
    out.push({ org, programs });
  }
  return out;
}
