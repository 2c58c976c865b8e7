import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type CredentialThrottle, throttledCheck } from '../../auth/throttle.js';
import { LatchkeyError } from '../../errors.js';
import { authenticateClient, clientAuthError } from '../../ims/authenticate-client.js';
import { clientCredentials } from '../../ims/client-credentials.js';
import { ImsError } from '../../ims/errors.js';
import { type ExchangeDeps, exchangeJwt } from '../../ims/exchange-jwt.js';
import { introspect } from '../../ims/introspect.js';
import { JWT_BEARER_GRANT, jwtBearerGrant } from '../../ims/jwt-bearer-grant.js';
import { ENDPOINT_PATHS } from '../../ims/metadata.js';
import { organizationsOf } from '../../ims/organizations.js';
import type { PublicUrl } from '../../ims/public-url.js';
import {
  isRevokedBy,
  publishedRevocations,
  readRevocations,
  revokeAccessToken,
} from '../../ims/revocation.js';
import type { SigningKey } from '../../ims/signing-keys.js';
import { checkAccessToken } from '../../ims/validate-token.js';
import { exchanges } from '../../metrics/registry.js';
import type { Store } from '../../store/types.js';
import { presentedClient } from '../presented-client.js';
import { field, readForm } from '../read-form.js';
import { imsSchemas } from '../schemas/ims.js';

export interface ImsEndpointDeps {
  readonly store: Store;
  readonly exchange: ExchangeDeps;
  readonly signingKeys: () => readonly SigningKey[];
  /** The published key a `kid` names. */
  readonly signingKeyOf: (kid: string) => SigningKey | undefined;
  /** The deployment's public URL: one for every IMS process sharing the store. */
  readonly publicUrl: () => PublicUrl;
  /** Throttles client authentication failures per client id and address. */
  readonly throttle: CredentialThrottle;
}

type Fields = (name: string) => string | undefined;

/** Form fields, falling back to the query string (IMS accepts both on its token endpoints). */
async function fields(request: FastifyRequest): Promise<Fields> {
  const form = await readForm(request);
  const query = request.query as Record<string, string | undefined>;
  return (name) => field(form, name) ?? (typeof query[name] === 'string' ? query[name] : undefined);
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization ?? '';
  return /^bearer /i.test(header) ? header.slice(7).trim() : undefined;
}

async function currentCheck(deps: ImsEndpointDeps, token: string | undefined) {
  const revocations = await readRevocations(deps.store);
  return checkAccessToken(
    token,
    (kid) => deps.signingKeyOf(kid)?.verification,
    { issuer: deps.exchange.tokenIssuer.issuer, now: Date.now() },
    (claims) => isRevokedBy(revocations, claims),
  );
}

/**
 * An access token presented as `Authorization: Bearer` (or, in a POST form, as the RFC 6750
 * `access_token` field; never both), or 401 as RFC 6750 says.
 */
async function bearerClaims(deps: ImsEndpointDeps, request: FastifyRequest) {
  let token = bearerToken(request);
  if (request.method === 'POST') {
    const fromForm = (await fields(request))('access_token');
    if (fromForm !== undefined && token !== undefined)
      throw new LatchkeyError('invalid_request', 'send the access token once, not twice', 400);
    token ??= fromForm;
  }
  const r = await currentCheck(deps, token);
  if (!r.valid) {
    throw new LatchkeyError('invalid_token', `the access token is ${r.reason}`, 401, {
      'www-authenticate': 'Bearer error="invalid_token"',
    });
  }
  return r.claims;
}

/**
 * The IMS's endpoints: Adobe's (`/ims/exchange/jwt` and its aliases, `/ims/token/v3` and
 * `/ims/token/v2`, `/ims/validate_token/v1`, `/ims/invalidate_token/v2`, `/ims/profile/v1`,
 * `/ims/organizations/v6`), the OAuth ones (`/ims/revoke`, RFC 7009; `/ims/introspect`, RFC
 * 7662), `GET /ims/keys` (JWKS) and `GET /ims/revocations` (what instances pull). Every endpoint
 * that authenticates a client accepts `client_secret_basic`, `client_secret_post` and
 * `private_key_jwt`, through one function (ims/authenticate-client.ts).
 */
export function imsEndpoints(app: FastifyInstance, deps: ImsEndpointDeps) {
  /** The client a request authenticates as; a client assertion's `aud` may name the issuer, the token endpoint or `path`. */
  const client = async (request: FastifyRequest, get: Fields, path: string) => {
    const { url, issuer } = deps.publicUrl();
    const presented = presentedClient(request.headers.authorization, get);
    // Every failed client authentication (wrong secret, unknown client, bad assertion) counts
    // against the client id and the caller's address, like a wrong password.
    let refusal: unknown;
    const integration = await throttledCheck(
      deps.throttle,
      'client',
      presented.clientId ?? '',
      request.ip,
      async () => {
        try {
          return await authenticateClient(deps.exchange, presented, [
            issuer,
            `${url}${ENDPOINT_PATHS.token}`,
            `${url}${path}`,
          ]);
        } catch (err) {
          if (!(err instanceof LatchkeyError) || err.code !== 'invalid_client') throw err;
          refusal = err;
          return undefined;
        }
      },
    );
    if (!integration) throw refusal;
    return integration;
  };

  /** Counts an exchange's outcome (`latchkey_exchanges_total`). */
  const counted = <T>(grant: string, issued: Promise<T>): Promise<T> =>
    issued.then(
      (result) => {
        exchanges.inc({ grant, outcome: 'issued' });
        return result;
      },
      (err: unknown) => {
        exchanges.inc({ grant, outcome: 'refused' });
        throw err;
      },
    );
  const grantLabel = (grant: string) =>
    grant === 'client_credentials' ? 'client_credentials' : 'jwt_bearer';

  for (const path of ['/ims/exchange/jwt', '/ims/exchange/jwt/', '/ims/exchange/v1/jwt']) {
    app.post(path, { schema: structuredClone(imsSchemas.exchange) }, async (request) => {
      const get = await fields(request);
      return counted(
        'jwt',
        client(request, get, path).then((integration) =>
          exchangeJwt(deps.exchange, integration, get('jwt_token')),
        ),
      );
    });
  }

  // v2 is what @adobe/aio-lib-ims's getAccessTokenByClientCredentials calls (with org_id).
  for (const path of ['/ims/token/v3', '/ims/token/v2']) {
    app.post(path, { schema: structuredClone(imsSchemas.token) }, async (request) => {
      const get = await fields(request);
      const grant = get('grant_type');
      if (grant !== 'client_credentials' && grant !== JWT_BEARER_GRANT) {
        throw new ImsError(
          'unsupported_grant_type',
          `grant_type must be client_credentials or ${JWT_BEARER_GRANT}`,
        );
      }
      const integration = await client(request, get, path).catch((err: unknown) => {
        exchanges.inc({ grant: grantLabel(grant), outcome: 'refused' });
        throw err;
      });
      return counted(
        grantLabel(grant),
        grant === 'client_credentials'
          ? clientCredentials(deps.exchange, integration, {
              scope: get('scope'),
              org_id: get('org_id'),
            })
          : jwtBearerGrant(deps.exchange, integration, {
              assertion: get('assertion'),
              scope: get('scope'),
            }),
      );
    });
  }

  app.get('/ims/keys', { schema: imsSchemas.keys }, async () => ({
    keys: deps.signingKeys().map((k) => k.publicJwk),
    // RFC 7517 section 5 allows further members: instances learn the issuer with the keys.
    issuer: deps.exchange.tokenIssuer.issuer,
  }));

  app.post('/ims/validate_token/v1', { schema: imsSchemas.validate }, async (request) => {
    const get = await fields(request);
    // The token comes as a form field, or (as @adobe/aio-lib-ims sends it) as a bearer token.
    const r = await currentCheck(deps, get('token') ?? bearerToken(request));
    return r.valid ? { valid: true, token: r.claims } : { valid: false, reason: r.reason };
  });

  // RFC 7009 and Adobe's invalidate_token/v2 (@adobe/aio-lib-ims's invalidateToken): 200 once
  // the client authenticates, whatever the token (another client's is left alone).
  for (const path of ['/ims/revoke', '/ims/invalidate_token/v2']) {
    const schema = imsSchemas.revoke(path === '/ims/invalidate_token/v2');
    app.post(path, { schema }, async (request, reply) => {
      const get = await fields(request);
      const integration = await client(request, get, path);
      await revokeAccessToken(deps.store, integration, await currentCheck(deps, get('token')));
      return reply.code(200).send({});
    });
  }

  app.post(ENDPOINT_PATHS.introspection, { schema: imsSchemas.introspect }, async (request) => {
    const get = await fields(request);
    // RFC 7662, section 2.3: invalid client credentials are a 401 here, whatever the method.
    const integration = await client(request, get, ENDPOINT_PATHS.introspection).catch((err) => {
      throw err instanceof LatchkeyError && err.code === 'invalid_client' && err.status === 400
        ? clientAuthError('client_secret_basic', err.message)
        : err;
    });
    return introspect(integration, await currentCheck(deps, get('token')));
  });

  // OpenID Connect's userinfo endpoint takes GET and POST; POST may carry the token as the
  // access_token form field (RFC 6750, section 2.2).
  const profile = async (request: FastifyRequest) => {
    const claims = await bearerClaims(deps, request);
    const userId = String(claims['user_id']);
    return {
      userId,
      sub: userId,
      account_type: userId.endsWith('@techacct.adobe.com') ? 'technical' : 'user',
      client_id: claims['client_id'],
    };
  };
  app.get('/ims/profile/v1', { schema: imsSchemas.profile('GET') }, profile);
  app.post('/ims/profile/v1', { schema: imsSchemas.profile('POST') }, profile);

  app.get('/ims/organizations/v6', { schema: imsSchemas.organizations }, async (request) =>
    organizationsOf(deps.store, await bearerClaims(deps, request)),
  );

  app.get('/ims/revocations', { schema: imsSchemas.revocations }, async () =>
    publishedRevocations(await readRevocations(deps.store)),
  );
}
