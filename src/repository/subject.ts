/**
 * Who a request acts as. Principals are the user id, every group the user belongs to (directly
 * or through other groups) and `everyone`. `admin` is the user `admin` or any member of the
 * `administrators` group: it may do everything, whatever the ACLs say.
 */
export interface Subject {
  readonly userId: string;
  readonly principals: ReadonlySet<string>;
  readonly admin: boolean;
  readonly anonymous: boolean;
}

export const ANONYMOUS_ID = 'anonymous';
export const EVERYONE = 'everyone';
export const ADMIN_ID = 'admin';
export const ADMINISTRATORS = 'administrators';

export const ANONYMOUS: Subject = Object.freeze({
  userId: ANONYMOUS_ID,
  principals: new Set([ANONYMOUS_ID, EVERYONE]),
  admin: false,
  anonymous: true,
});

export function makeSubject(userId: string, groups: Iterable<string>): Subject {
  const principals = new Set([userId, EVERYONE, ...groups]);
  return {
    userId,
    principals,
    admin: userId === ADMIN_ID || principals.has(ADMINISTRATORS),
    anonymous: false,
  };
}
