import type { StoreOps } from '../store/types.js';
import type { ImsUser } from './dev-token.js';
import { type Environment, type Integration, NS, type Organization } from './model.js';

/** One organization as Adobe's `GET /ims/organizations/v6` lists it. */
export interface OrganizationEntry {
  readonly orgName: string;
  readonly orgRef: { readonly ident: string; readonly authSrc: 'AdobeOrg' };
  readonly orgType: 'Enterprise';
  readonly groups: readonly never[];
}

/**
 * The organizations an access token's owner belongs to, in Adobe's format (`orgRef.ident` +
 * `@` + `orgRef.authSrc` is the org id): a technical account's is its integration's; an IMS
 * user's are those of the environments it has development tokens for.
 */
export async function organizationsOf(
  store: StoreOps,
  claims: Record<string, unknown>,
): Promise<OrganizationEntry[]> {
  const orgIds = new Set<string>();
  const integration = (await store.getRecord(NS.integration, String(claims['client_id'])))
    ?.value as unknown as Integration | undefined;
  if (integration && integration.technicalAccountId === claims['user_id']) {
    orgIds.add(integration.orgId);
  } else {
    const user = (await store.getRecord('ims.user', String(claims['user_id'])))?.value as unknown as
      | ImsUser
      | undefined;
    for (const id of user?.environments ?? []) {
      const env = (await store.getRecord(NS.environment, id))?.value as unknown as
        | Environment
        | undefined;
      if (env) orgIds.add(env.orgId);
    }
  }
  const entries: OrganizationEntry[] = [];
  for (const id of orgIds) {
    const org = (await store.getRecord(NS.org, id))?.value as unknown as Organization | undefined;
    entries.push({
      orgName: org?.name ?? id,
      orgRef: { ident: id.replace(/@AdobeOrg$/, ''), authSrc: 'AdobeOrg' },
      orgType: 'Enterprise',
      groups: [],
    });
  }
  return entries;
}
