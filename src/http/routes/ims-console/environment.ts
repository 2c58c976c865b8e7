import type { FastifyInstance, FastifyReply } from 'fastify';
import { ConflictError, LatchkeyError, NotFoundError } from '../../../errors.js';
import { addCertificate, removeCertificate } from '../../../ims/add-certificate.js';
import type { ConsoleUser } from '../../../ims/console-sessions.js';
import { createCredentials } from '../../../ims/credentials.js';
import { devToken } from '../../../ims/dev-token.js';
import { addDeveloper, listDevelopers } from '../../../ims/developers.js';
import { type IntegrationSummary, listIntegrations } from '../../../ims/list-integrations.js';
import { type Environment, NS, type Organization } from '../../../ims/model.js';
import { revokeIntegration } from '../../../ims/revocation.js';
import { listDevTokens, revokeDevTokens } from '../../../ims/revoke-dev-tokens.js';
import { type FormState, formOutcome } from '../../console/form-state.js';
import { sentence } from '../../console/register.js';
import { field, readForm } from '../../read-form.js';
import type { ImsAdminDeps } from '../ims-admin.js';
import { administrator, assertEnvironment, MOUNT, signedIn } from './guard.js';
import { firstSubmission, formId } from './once.js';

/** The services the environment pages use: the same as the IMS admin API's. */
export type EnvironmentDeps = Pick<
  ImsAdminDeps,
  'store' | 'publicUrl' | 'signingKey' | 'tokenIssuer' | 'passwordHashCost'
>;

const envUrl = (env: string) => `${MOUNT}/environments/${encodeURIComponent(env)}`;

const DONE: Readonly<Record<string, string>> = {
  revoked:
    'Integration revoked: its secret and certificates stop working, and every token issued to it is refused (by instances within their revocation poll interval).',
  revokedAlready: 'That integration was revoked already: nothing changed.',
  certificateAdded: 'Certificate added: JWTs signed with its key are accepted from now on.',
  certificateKnown: 'The integration has this certificate already: nothing changed.',
  certificateRemoved: 'Certificate removed.',
  tokenRevoked: 'Development token revoked.',
  tokenRevokedAlready: 'That development token was revoked already.',
  userTokensRevoked: 'Every live development token of the user was revoked.',
  noTokensRevoked: 'Nothing was revoked: the user has no live development token.',
  developerAdded:
    'Developer saved: they can sign in and get development tokens for this environment.',
};

/**
 * One environment of the Developer Console. Integrations tab: Get Service Credentials (the JSON
 * shown once, to copy or download), Get Local Development Token, the integrations with their
 * certificates (add one for rotation, remove one, revoke the integration after a confirmation),
 * and the development tokens issued, each revocable. Developers tab (administrators): who may
 * sign in and get development tokens here.
 */
export function environmentRoutes(scope: FastifyInstance, deps: EnvironmentDeps) {
  const { store } = deps;

  const load = async (user: ConsoleUser, envId: string) => {
    assertEnvironment(user, envId);
    const env = (await store.getRecord(NS.environment, envId))?.value as Environment | undefined;
    if (!env) throw new NotFoundError(`there is no environment ${envId.slice(0, 40)}`);
    const org = (await store.getRecord(NS.org, env.orgId))?.value as Organization | undefined;
    return { env, org };
  };

  const chromeOf = (
    user: ConsoleUser,
    env: Environment,
    org: Organization | undefined,
    tab: string,
  ) => ({
    crumbs: [
      { label: 'Organizations', href: MOUNT },
      { label: org?.name ?? env.orgId, href: MOUNT },
      { label: `Program ${env.program}`, href: MOUNT },
      { label: `Environment ${env.environment} (${env.id})` },
    ],
    nav: [
      { href: envUrl(env.id), label: 'Integrations', current: tab === 'integrations' },
      ...(user.admin
        ? [
            {
              href: `${envUrl(env.id)}/developers`,
              label: 'Developers',
              current: tab === 'developers',
            },
          ]
        : []),
    ],
  });

  const integrationsPage = async (
    reply: FastifyReply,
    user: ConsoleUser,
    envId: string,
    extra: FormState & { values?: Record<string, string> } = {},
  ) => {
    const { env, org } = await load(user, envId);
    const integrations = await listIntegrations(store, { environment: env.id });
    const tokens = (await listDevTokens(store, user.admin ? undefined : user.id)).filter(
      (t) => t.environment === env.id,
    );
    return reply.code(extra.status ?? 200).page('ims/environment', {
      title: `Environment ${env.id}`,
      ...chromeOf(user, env, org, 'integrations'),
      env,
      org,
      isAdmin: user.admin,
      me: user.id,
      integrations,
      tokens,
      values: extra.values ?? {},
      formId: formId(),
      ...formOutcome(extra, DONE, 'That did not work: see the message in the form.'),
    });
  };

  const done = (reply: FastifyReply, envId: string, what: string, tab = '') =>
    reply
      .code(303)
      .header('location', `${envUrl(envId)}${tab}?done=${what}`)
      .send();

  /** Runs an action; a client error shows the environment page again with it under its form. */
  const attempt = async (
    reply: FastifyReply,
    user: ConsoleUser,
    envId: string,
    form: string,
    action: () => Promise<FastifyReply>,
    values: Record<string, string> = {},
  ) => {
    try {
      return await action();
    } catch (err) {
      if (!(err instanceof LatchkeyError) || err.status >= 500 || err.status === 401) throw err;
      // What was typed stays in its field, to be corrected rather than typed again.
      return integrationsPage(reply, user, envId, {
        status: err.status,
        errors: { [form]: sentence(err.message) },
        values,
      });
    }
  };

  type Env = { Params: { env: string }; Querystring: { done?: string } };
  type Client = { Params: { env: string; client: string } };

  scope.get<Env>(`${MOUNT}/environments/:env`, { schema: { hide: true } }, async (request, reply) =>
    integrationsPage(reply, signedIn(request), request.params.env, { done: request.query.done }),
  );

  const integrationOf = async (envId: string, clientId: string) => {
    const found = (await listIntegrations(store, { environment: envId })).find(
      (i) => i.clientId === clientId,
    );
    if (!found) throw new NotFoundError(`there is no integration ${clientId.slice(0, 80)} here`);
    return found;
  };

  scope.post<Env>(
    `${MOUNT}/environments/:env/credentials`,
    { schema: { hide: true } },
    async (request, reply) => {
      const user = administrator(request, 'Getting service credentials');
      const envId = request.params.env;
      const form = await readForm(request);
      return attempt(reply, user, envId, 'credentials', async () => {
        const { env, org } = await load(user, envId);
        if (!(await firstSubmission(store, field(form, 'form'))))
          throw new LatchkeyError(
            'conflict',
            'these credentials were created already and are shown only once: get new ones if they were lost (and revoke the old integration)',
            409,
          );
        const credentials = await createCredentials(store, {
          environment: env.id,
          imsEndpoint: deps.publicUrl().imsEndpoint,
        });
        const json = JSON.stringify(credentials, null, 2);
        return reply.page('ims/shown-once', {
          title: 'Service credentials',
          ...chromeOf(user, env, org, 'integrations'),
          env,
          what: 'service credentials',
          intro: `Integration ${credentials.integration.technicalAccount.clientId} was created. This is the only time its client secret and private key are shown: copy or download them now, and keep them safe.`,
          json,
          filename: 'credentials.json',
          copyLabel: 'Service credentials',
        });
      });
    },
  );

  scope.post<Env>(
    `${MOUNT}/environments/:env/dev-token`,
    { schema: { hide: true } },
    async (request, reply) => {
      const user = signedIn(request);
      const envId = request.params.env;
      const form = await readForm(request);
      return attempt(
        reply,
        user,
        envId,
        'devToken',
        async () => {
          const { env, org } = await load(user, envId);
          // A developer gets tokens for itself; an administrator names the user.
          const userId = user.admin ? (field(form, 'user') ?? '').trim() : user.id;
          if (userId === '')
            throw new LatchkeyError('invalid_request', 'enter the user the token is for', 400);
          if (!(await firstSubmission(store, field(form, 'form'))))
            throw new LatchkeyError(
              'conflict',
              'this token was issued already and is shown only once: get a new one',
              409,
            );
          const token = await devToken(store, deps.signingKey(), {
            userId,
            environment: env.id,
            issuer: deps.tokenIssuer,
          });
          return reply.page('ims/shown-once', {
            title: 'Local development token',
            ...chromeOf(user, env, org, 'integrations'),
            env,
            what: 'development token',
            intro: `An access token for ${userId} in ${env.id}, valid 24 hours. It is shown only this once; it is listed (by its id) on the environment's page until it expires, where it can be revoked.`,
            json: JSON.stringify(token, null, 2),
            token: token.accessToken,
            filename: 'dev-token.json',
            copyLabel: 'Development token',
          });
        },
        { devTokenUser: field(form, 'user') ?? '' },
      );
    },
  );

  scope.post<Env>(
    `${MOUNT}/environments/:env/dev-tokens/revoke`,
    { schema: { hide: true } },
    async (request, reply) => {
      const user = signedIn(request);
      const envId = request.params.env;
      const form = await readForm(request);
      return attempt(
        reply,
        user,
        envId,
        'tokens',
        async () => {
          await load(user, envId);
          const jti = field(form, 'jti');
          const who = field(form, 'user')?.trim();
          if (jti === undefined && !who)
            throw new LatchkeyError(
              'invalid_request',
              'enter the user whose development tokens to revoke',
              400,
            );
          if (!user.admin) {
            // A developer revokes its own tokens only.
            const own = await listDevTokens(store, user.id);
            if (who !== undefined ? who !== user.id : !own.some((t) => t.jti === jti))
              throw new NotFoundError('no live development token of yours with this id');
          }
          const { revoked } = await revokeDevTokens(store, { jti, user: who });
          const outcome =
            jti !== undefined
              ? revoked === 0
                ? 'tokenRevokedAlready'
                : 'tokenRevoked'
              : revoked === 0
                ? 'noTokensRevoked'
                : 'userTokensRevoked';
          return done(reply, envId, outcome);
        },
        { revokeUser: field(form, 'user') ?? '' },
      );
    },
  );

  scope.get<Client>(
    `${MOUNT}/environments/:env/integrations/:client/revoke`,
    { schema: { hide: true } },
    async (request, reply) => {
      const user = administrator(request, 'Revoking an integration');
      const { env, org } = await load(user, request.params.env);
      const integration = await integrationOf(env.id, request.params.client);
      if (integration.revoked)
        throw new ConflictError(
          `${integration.clientId} was revoked already: its credentials stopped working then`,
        );
      return reply.page('confirm', {
        title: `Revoke ${integration.clientId}?`,
        ...chromeOf(user, env, org, 'integrations'),
        question: `Revoke the integration ${integration.clientId}? Its client secret and certificates stop working at once, and every access token issued to it is refused. This cannot be undone: a server using it needs new service credentials.`,
        action: `${envUrl(env.id)}/integrations/${encodeURIComponent(integration.clientId)}/revoke`,
        fields: {},
        confirm: 'Revoke the integration',
        cancel: envUrl(env.id),
      });
    },
  );

  /**
   * An administrator's action on one integration of the environment (`POST
   * <environment>/integrations/<client id>/<action>`): the integration must be there; a refusal
   * shows the page again with the message at `errorAt`, success redirects with the `done` notice.
   */
  const integrationAction = (
    action: string,
    what: string,
    errorAt: (client: string) => string,
    run: (
      integration: IntegrationSummary,
      form: Awaited<ReturnType<typeof readForm>>,
    ) => Promise<string>,
  ) =>
    scope.post<Client>(
      `${MOUNT}/environments/:env/integrations/:client/${action}`,
      { schema: { hide: true } },
      async (request, reply) => {
        const user = administrator(request, what);
        const { env, client } = request.params;
        const form = await readForm(request);
        return attempt(reply, user, env, errorAt(client), async () => {
          await load(user, env);
          return done(reply, env, await run(await integrationOf(env, client), form));
        });
      },
    );

  integrationAction(
    'revoke',
    'Revoking an integration',
    () => 'integrations',
    async (integration) => {
      if (integration.revoked) return 'revokedAlready';
      await revokeIntegration(store, integration.clientId);
      return 'revoked';
    },
  );

  integrationAction(
    'certificates',
    'Adding a certificate',
    (client) => `certificate:${client}`,
    async (integration, form) => {
      const pasted = (field(form, 'certificate') ?? '').trim();
      const pem = pasted !== '' ? pasted : form.files.get('file')?.toString('utf8');
      if (!pem)
        throw new LatchkeyError(
          'invalid_request',
          'paste a PEM certificate or choose its file',
          400,
        );
      const { certificates } = await addCertificate(store, integration.clientId, pem);
      return certificates > integration.certificates.length
        ? 'certificateAdded'
        : 'certificateKnown';
    },
  );

  integrationAction(
    'certificates/remove',
    'Removing a certificate',
    (client) => `certificate:${client}`,
    async (integration, form) => {
      await removeCertificate(store, integration.clientId, field(form, 'fingerprint') ?? '');
      return 'certificateRemoved';
    },
  );

  const developersPage = async (
    reply: FastifyReply,
    user: ConsoleUser,
    envId: string,
    extra: FormState & { id?: string } = {},
  ) => {
    const { env, org } = await load(user, envId);
    return reply.code(extra.status ?? 200).page('ims/developers', {
      title: `Developers of ${env.id}`,
      ...chromeOf(user, env, org, 'developers'),
      env,
      developers: await listDevelopers(store, env.id),
      values: { id: extra.id ?? '' },
      ...formOutcome(extra, DONE, 'Nothing was saved: see the message in the form.'),
    });
  };

  scope.get<Env>(
    `${MOUNT}/environments/:env/developers`,
    { schema: { hide: true } },
    async (request, reply) =>
      developersPage(reply, administrator(request, 'The developers list'), request.params.env, {
        done: request.query.done,
      }),
  );

  scope.post<Env>(
    `${MOUNT}/environments/:env/developers`,
    { schema: { hide: true } },
    async (request, reply) => {
      const user = administrator(request, 'Adding developers');
      const envId = request.params.env;
      const form = await readForm(request);
      const id = (field(form, 'id') ?? '').trim();
      try {
        await load(user, envId);
        await addDeveloper(
          store,
          { id, password: field(form, 'password') ?? '', environment: envId },
          deps.passwordHashCost,
        );
      } catch (err) {
        if (!(err instanceof LatchkeyError) || err.status >= 500 || err.status === 401) throw err;
        return developersPage(reply, user, envId, {
          status: err.status,
          // Next to the password, or else the user id.
          errors: {
            [err.code === 'invalid_password' ? 'password' : 'developer']: sentence(err.message),
          },
          id,
        });
      }
      return done(reply, envId, 'developerAdded', '/developers');
    },
  );
}
