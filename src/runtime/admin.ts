import { randomBytes } from 'node:crypto';

/**
 * The `admin` account of one server's store. A server creates it only once it listens, as the
 * last step of its start: a start that fails earlier (a port in use, an unreadable TLS file, a bad
 * option) leaves no admin behind whose password nobody saw.
 */
export interface AdminAccount {
  /** Whether the store has its admin already. */
  exists(): Promise<boolean>;
  /** Creates the admin with `password` unless it exists; whether this call created it. */
  create(password: string): Promise<boolean>;
}

/** A new admin password: 144 random bits, base64url (24 characters, no shell metacharacters). */
export function generateAdminPassword(): string {
  return randomBytes(18).toString('base64url');
}

export interface AdminsCreated {
  /** Names of the accounts this call created (empty: every one existed). */
  readonly created: readonly string[];
  /** The password this call generated and gave to the `created` accounts: show it, once. */
  readonly generatedPassword: string | undefined;
  /** Why creating one of the accounts failed (the others may have been created: show them). */
  readonly failure?: unknown;
}

/**
 * Creates every missing admin among `accounts` with one password: `configured`, or one generated
 * here. Never throws once it generated a password: a failure comes back in `failure` beside
 * what was created, so that the caller shows a password that an account has before it reports
 * the failure.
 */
export async function createAdmins(
  accounts: readonly { readonly name: string; readonly account: AdminAccount }[],
  configured: string | undefined,
): Promise<AdminsCreated> {
  const missing: { readonly name: string; readonly account: AdminAccount }[] = [];
  for (const a of accounts) if (!(await a.account.exists())) missing.push(a);
  if (missing.length === 0) return { created: [], generatedPassword: undefined };
  const password = configured ?? generateAdminPassword();
  const created: string[] = [];
  let failure: unknown;
  for (const { name, account } of missing) {
    try {
      if (await account.create(password)) created.push(name);
    } catch (err) {
      failure ??= err;
    }
  }
  return {
    created,
    generatedPassword: configured === undefined && created.length > 0 ? password : undefined,
    ...(failure !== undefined ? { failure } : {}),
  };
}

/** {@link createAdmins} for one server: a failure is thrown (nothing was created then). */
export async function createAdmin(
  name: string,
  account: AdminAccount,
  configured: string | undefined,
): Promise<AdminsCreated> {
  const result = await createAdmins([{ name, account }], configured);
  if (result.failure !== undefined) throw result.failure;
  return result;
}
