/** Privileges latchkey evaluates. `jcr:all` contains every other one. */
export const PRIVILEGES = [
  'jcr:read',
  'jcr:write',
  'jcr:readAccessControl',
  'jcr:modifyAccessControl',
  'jcr:all',
] as const;
export type Privilege = (typeof PRIVILEGES)[number];

/** One access-control entry: allow or deny some privileges to one principal. */
export interface Ace {
  readonly principal: string;
  readonly allow: boolean;
  readonly privileges: readonly Privilege[];
}

/** Store namespace of access-control lists; the key is the node path. */
export const ACL_NS = 'acl';

export function covers(privileges: readonly Privilege[], wanted: Privilege): boolean {
  return privileges.includes(wanted) || privileges.includes('jcr:all');
}
