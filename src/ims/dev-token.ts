import type { Store } from '../store/types.js';
import { signAccessToken, type TokenIssuer } from './access-token.js';
import { ImsError } from './errors.js';
import { ENVIRONMENT_ID, type Environment, NS } from './model.js';
import type { SigningKey } from './signing-keys.js';
import { DEV_CONSOLE_CLIENT_PREFIX, isTechnicalAccountId } from './technical-account.js';

const USER_ID = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;

/** Refuses what cannot be an IMS user's id (1-128 letters, digits and `. _ @ + -`). */
export function assertUserId(id: string): void {
  if (!USER_ID.test(id))
    throw new ImsError('invalid_request', 'user ids are 1-128 letters, digits and . _ @ + -');
}

/** Store records `<user id>:<jti>` → {@link DevTokenRecord}, until the token expires. */
export const DEV_TOKEN_NS = 'ims.dev-token';

/** What the IMS remembers of a development token (never the token itself). */
export interface DevTokenRecord {
  readonly jti: string;
  readonly user: string;
  readonly environment: string;
  /** ms since the epoch */
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/** Store records `<user id>` → {@link ImsUser}. */
export const IMS_USER_NS = 'ims.user';

/** An IMS user and the environments it may get development tokens for. */
export interface ImsUser {
  readonly id: string;
  readonly environments: readonly string[];
  /** scrypt hash of the password it signs in to the Developer Console with, if it has one. */
  readonly password?: string;
}

/**
 * A local development token, as the Developer Console hands it out: an access token for an IMS
 * user (created on first use, with access to the environment), valid 24 h, in the Console's JSON:
 * `{"ok":true,"statusCode":200,"accessToken":"…"}`. Instances map it to the repository user of the
 * same id, which must exist there. Never for `admin`. Each token is recorded (not the token, its
 * id) until it expires, to be listed and revoked.
 */
export async function devToken(
  store: Store,
  signingKey: SigningKey,
  options: { userId: string; environment: string; issuer: TokenIssuer },
): Promise<{ ok: true; statusCode: 200; accessToken: string }> {
  assertUserId(options.userId);
  // A development token lives 24 h in a developer's shell history and CI logs; one for the
  // repository's all-powerful admin would be a leaked master key. Use a user with the rights
  // the development needs.
  if (options.userId.toLowerCase() === 'admin')
    throw new ImsError(
      'invalid_request',
      'development tokens are not issued for admin: create a user with the rights you need',
    );
  if (isTechnicalAccountId(options.userId))
    throw new ImsError(
      'invalid_request',
      'development tokens are for users: an id @techacct.adobe.com is an integration’s technical account, whose tokens only its integration gets',
    );
  if (!ENVIRONMENT_ID.test(options.environment))
    throw new ImsError('invalid_request', 'environment must look like p1-e1');
  const env = (await store.getRecord(NS.environment, options.environment))?.value as unknown as
    | Environment
    | undefined;
  if (!env) throw new ImsError('invalid_request', `no environment ${options.environment}`, 404);
  await store.transaction(async (tx) => {
    const user = (await tx.getRecord(IMS_USER_NS, options.userId))?.value as unknown as
      | ImsUser
      | undefined;
    const environments = [...new Set([...(user?.environments ?? []), options.environment])];
    await tx.putRecord(IMS_USER_NS, options.userId, {
      ...(user ?? {}),
      id: options.userId,
      environments,
    } as never);
  });
  const [, program, environment] = ENVIRONMENT_ID.exec(options.environment)!;
  const now = Date.now();
  const { token, jti, expiresAtMs } = await signAccessToken(
    signingKey,
    {
      clientId: `${DEV_CONSOLE_CLIENT_PREFIX}p${program}-e${environment}`,
      userId: options.userId,
      scope: 'AdobeID,openid,read_organizations,additional_info.projectedProductContext',
      environment: options.environment,
    },
    options.issuer,
    now,
    'dev-token',
  );
  // Remembered until it expires, so that it can be listed and revoked (latchkey token list,
  // latchkey token revoke, /ims/admin/dev-tokens).
  const record: DevTokenRecord = {
    jti,
    user: options.userId,
    environment: options.environment,
    issuedAt: now,
    expiresAt: expiresAtMs,
  };
  await store.putRecord(DEV_TOKEN_NS, `${options.userId}:${jti}`, record as never, {
    expiresAt: expiresAtMs,
  });
  return { ok: true, statusCode: 200, accessToken: token };
}
