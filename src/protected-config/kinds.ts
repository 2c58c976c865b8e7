/**
 * The kinds of protected configuration and their fields. Secret fields are stored sealed with
 * the master key, never in clear; the others in clear.
 */
export interface ConfigKind {
  readonly nodeType: string;
  readonly fields: readonly string[];
  /** Fields a configuration may lack; every other field is required. */
  readonly optional: readonly string[];
  readonly secret: readonly string[];
}

export const CONFIG_KINDS: Readonly<Record<string, ConfigKind>> = {
  ims: {
    nodeType: 'latchkey:ImsConfiguration',
    fields: [
      'imsEndpoint',
      'org',
      'technicalAccountId',
      'clientId',
      'clientSecret',
      'privateKey',
      'metascopes',
    ],
    optional: ['metascopes'],
    secret: ['clientSecret', 'privateKey'],
  },
};

export const CONFIG_ROOT = '/conf/latchkey';

export function configPath(kind: string, name: string): string {
  return `${CONFIG_ROOT}/${kind}/${name}`;
}
