import type { FastifyInstance, FastifyReply } from 'fastify';
import { LatchkeyError, NotFoundError } from '../../../errors.js';
import type { TokenIssuer } from '../../../ims/access-token.js';
import { addCertificate, removeCertificate } from '../../../ims/add-certificate.js';
import type { ConsoleUser } from '../../../ims/console-sessions.js';
import { createCredentials } from '../../../ims/credentials.js';
import { devToken } from '../../../ims/dev-token.js';
import { addDeveloper, listDevelopers } from '../../../ims/developers.js';
import { listIntegrations } from '../../../ims/list-integrations.js';
import { type Environment, NS, type Organization } from '../../../ims/model.js';
import type { PublicUrl } from '../../../ims/public-url.js';
import { revokeIntegration } from '../../../ims/revocation.js';
import { listDevTokens, revokeDevTokens } from '../../../ims/revoke-dev-tokens.js';
import type { SigningKey } from '../../../ims/signing-keys.js';
import type { Store } from '../../../store/types.js';
import { sentence } from '../../console/register.js';
import { field, readForm } from '../../read-form.js';
import { administrator, assertEnvironment, MOUNT, signedIn } from './guard.js';
import { firstSubmission, formId } from './once.js';

export interface EnvironmentDeps {
  readonly store: Store;
  readonly publicUrl: () => PublicUrl;
  readonly signingKey: () => SigningKey;
  readonly tokenIssuer: TokenIssuer;
  readonly passwordHashCost: number;
}

const envUrl = (env: string) => `${MOUNT}/environments/${encodeURIComponent(env)}`;

const DONE: Readonly<Record<string, string>> = {
  revoked:
    'Integration revoked: its secret and certificates stop working, and every token issued to it is refused (by instances within their revocation poll interval).',
  certificateAdded: 'Certificate added: JWTs signed with its key are accepted from now on.',
  certificateRemoved: 'Certificate removed.',
  tokensRevoked: 'Development token(s) revoked.',
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
    extra: { status?: number; errors?: Record<string, string>; done?: string | undefined } = {},
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
      formId: formId(),
      errors: extra.errors ?? {},
      notice: extra.done ? DONE[extra.done] : undefined,
      error: extra.errors ? 'That did not work: see the message under the form.' : undefined,
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
  ) => {
    try {
      return await action();
    } catch (err) {
      if (!(err instanceof LatchkeyError) || err.status >= 500 || err.status === 401) throw err;
      return integrationsPage(reply, user, envId, {
        status: err.status,
        errors: { [form]: sentence(err.message) },
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
      return attempt(reply, user, envId, 'devToken', async () => {
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
      });
    },
  );

  scope.post<Env>(
    `${MOUNT}/environments/:env/dev-tokens/revoke`,
    { schema: { hide: true } },
    async (request, reply) => {
      const user = signedIn(request);
      const envId = request.params.env;
      const form = await readForm(request);
      return attempt(reply, user, envId, 'tokens', async () => {
        await load(user, envId);
        const jti = field(form, 'jti');
        const who = field(form, 'user');
        if (!user.admin) {
          // A developer revokes its own tokens only.
          const own = await listDevTokens(store, user.id);
          if (who !== undefined ? who !== user.id : !own.some((t) => t.jti === jti))
            throw new NotFoundError('no live development token of yours with this id');
        }
        await revokeDevTokens(store, { jti, user: who?.trim() });
        return done(reply, envId, 'tokensRevoked');
      });
    },
  );

  scope.get<Client>(
    `${MOUNT}/environments/:env/integrations/:client/revoke`,
    { schema: { hide: true } },
    async (request, reply) => {
      const user = administrator(request, 'Revoking an integration');
      const { env, org } = await load(user, request.params.env);
      const integration = await integrationOf(env.id, request.params.client);
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

  scope.post<Client>(
    `${MOUNT}/environments/:env/integrations/:client/revoke`,
    { schema: { hide: true } },
    async (request, reply) => {
      const user = administrator(request, 'Revoking an integration');
      const { env, client } = request.params;
      return attempt(reply, user, env, 'integrations', async () => {
        await load(user, env);
        await integrationOf(env, client);
        await revokeIntegration(store, client);
        return done(reply, env, 'revoked');
      });
    },
  );

  scope.post<Client>(
    `${MOUNT}/environments/:env/integrations/:client/certificates`,
    { schema: { hide: true } },
    async (request, reply) => {
      const user = administrator(request, 'Adding a certificate');
      const { env, client } = request.params;
      const form = await readForm(request);
      return attempt(reply, user, env, `certificate:${client}`, async () => {
        await load(user, env);
        await integrationOf(env, client);
        const pasted = (field(form, 'certificate') ?? '').trim();
        const file = form.files.get('file');
        const pem = pasted !== '' ? pasted : file?.toString('utf8');
        if (!pem)
          throw new LatchkeyError(
            'invalid_request',
            'paste a PEM certificate or choose its file',
            400,
          );
        await addCertificate(store, client, pem);
        return done(reply, env, 'certificateAdded');
      });
    },
  );

  scope.post<Client>(
    `${MOUNT}/environments/:env/integrations/:client/certificates/remove`,
    { schema: { hide: true } },
    async (request, reply) => {
      const user = administrator(request, 'Removing a certificate');
      const { env, client } = request.params;
      const form = await readForm(request);
      return attempt(reply, user, env, `certificate:${client}`, async () => {
        await load(user, env);
        await integrationOf(env, client);
        await removeCertificate(store, client, field(form, 'fingerprint') ?? '');
        return done(reply, env, 'certificateRemoved');
      });
    },
  );

  const developersPage = async (
    reply: FastifyReply,
    user: ConsoleUser,
    envId: string,
    extra: { status?: number; error?: string; id?: string; done?: string | undefined } = {},
  ) => {
    const { env, org } = await load(user, envId);
    return reply.code(extra.status ?? 200).page('ims/developers', {
      title: `Developers of ${env.id}`,
      ...chromeOf(user, env, org, 'developers'),
      env,
      developers: await listDevelopers(store, env.id),
      errors: extra.error ? { developer: extra.error } : {},
      values: { id: extra.id ?? '' },
      notice: extra.done ? DONE[extra.done] : undefined,
      error: extra.error ? 'Nothing was saved: see the message under the form.' : undefined,
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
          error: sentence(err.message),
          id,
        });
      }
      return done(reply, envId, 'developerAdded', '/developers');
    },
  );
}
