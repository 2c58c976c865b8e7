/** The domain of every technical account id (`<24 hex>@techacct.adobe.com`), as Adobe's IMS names them. */
export const TECHNICAL_ACCOUNT_DOMAIN = '@techacct.adobe.com';

/** The client id prefix of development tokens (`dev-console-p<program>-e<environment>`). */
export const DEV_CONSOLE_CLIENT_PREFIX = 'dev-console-';

/**
 * Whether `id` names a technical account (in any case): the service user an integration acts as
 * on instances. Only that integration's own exchanges get tokens for it; a development token or
 * a developer with such an id would act as the integration's service user, and outlive the
 * integration's revocation.
 */
export function isTechnicalAccountId(id: string): boolean {
  return id.toLowerCase().endsWith(TECHNICAL_ACCOUNT_DOMAIN);
}
