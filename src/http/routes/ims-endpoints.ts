import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticateClient } from '../../ims/authenticate-client.js';
import { clientCredentials } from '../../ims/client-credentials.js';
import { ImsError } from '../../ims/errors.js';
import { type ExchangeDeps, exchangeJwt } from '../../ims/exchange-jwt.js';
import { isRevokedBy, readRevocations, revokeTokenId } from '../../ims/revocation.js';
import type { SigningKey } from '../../ims/signing-keys.js';
import { checkAccessToken } from '../../ims/validate-token.js';
import type { Store } from '../../store/types.js';
import { field, readForm } from '../read-form.js';

export interface ImsEndpointDeps {
  readonly store: Store;
  readonly exchange: ExchangeDeps;
  readonly signingKeys: () => readonly SigningKey[];
  /** Public base URL of the IMS (`http://host:port`), for the discovery document. */
  readonly baseUrl: () => string;
}

/** Form fields, falling back to the query string (IMS accepts both on token/v3). */
async function fields(request: FastifyRequest): Promise<(name: string) => string | undefined> {
  const form = await readForm(request);
  const query = request.query as Record<string, string | undefined>;
  return (name) => field(form, name) ?? (typeof query[name] === 'string' ? query[name] : undefined);
}

async function currentClaims(deps: ImsEndpointDeps, token: string | undefined) {
  const revocations = await readRevocations(deps.store);
  return checkAccessToken(token, deps.signingKeys(), Date.now(), (claims) =>
    isRevokedBy(revocations, claims),
  );
}

/**
 * The IMS's endpoints: exchange (`/ims/exchange/jwt`, `/ims/exchange/jwt/`, `/ims/exchange/v1/jwt`),
 * `POST /ims/token/v3` (client credentials), `GET /ims/keys` (JWKS), `POST /ims/validate_token/v1`,
 * `POST /ims/revoke` (RFC 7009), `GET /ims/profile/v1`, `GET /ims/revocations` (what instances
 * pull), `GET /ims/.well-known/openid-configuration`.
 */
export function imsEndpoints(app: FastifyInstance, deps: ImsEndpointDeps) {
  const exchange = async (request: FastifyRequest) => {
    const get = await fields(request);
    return exchangeJwt(deps.exchange, {
      client_id: get('client_id'),
      client_secret: get('client_secret'),
      jwt_token: get('jwt_token'),
    });
  };
  for (const url of ['/ims/exchange/jwt', '/ims/exchange/jwt/', '/ims/exchange/v1/jwt'])
    app.post(url, exchange);

  app.post('/ims/token/v3', async (request) => {
    const get = await fields(request);
    return clientCredentials(deps.exchange, {
      grant_type: get('grant_type'),
      client_id: get('client_id'),
      client_secret: get('client_secret'),
      scope: get('scope'),
    });
  });

  app.get('/ims/keys', async () => ({ keys: deps.signingKeys().map((k) => k.publicJwk) }));

  app.post('/ims/validate_token/v1', async (request) => {
    const get = await fields(request);
    // The token comes as a form field, or (as @adobe/aio-lib-ims sends it) as a bearer token.
    const header = request.headers.authorization ?? '';
    const token = get('token') ?? (/^bearer /i.test(header) ? header.slice(7).trim() : undefined);
    const r = await currentClaims(deps, token);
    return r.valid ? { valid: true, token: r.claims } : { valid: false, reason: r.reason };
  });

  app.post('/ims/revoke', async (request, reply) => {
    const get = await fields(request);
    const client = await authenticateClient(deps.store, get('client_id'), get('client_secret'));
    const r = await currentClaims(deps, get('token'));
    // RFC 7009: an invalid or unknown token is answered 200 as well; another client's token is
    // left alone.
    if (
      r.valid &&
      r.claims['client_id'] === client.clientId &&
      typeof r.claims['jti'] === 'string'
    ) {
      await revokeTokenId(deps.store, r.claims['jti'], Number(r.claims['exp']) * 1000);
    }
    return reply.code(200).send({});
  });

  app.get('/ims/profile/v1', async (request) => {
    const header = request.headers.authorization ?? '';
    const r = await currentClaims(
      deps,
      /^bearer /i.test(header) ? header.slice(7).trim() : undefined,
    );
    if (!r.valid) throw new ImsError('invalid_token', `the access token is ${r.reason}`, 401);
    const userId = String(r.claims['user_id']);
    return {
      userId,
      sub: userId,
      account_type: userId.endsWith('@techacct.adobe.com') ? 'technical' : 'user',
      client_id: r.claims['client_id'],
    };
  });

  app.get('/ims/revocations', async () => readRevocations(deps.store));

  app.get('/ims/.well-known/openid-configuration', async () => {
    const base = deps.baseUrl();
    return {
      issuer: `${base}/ims`,
      jwks_uri: `${base}/ims/keys`,
      token_endpoint: `${base}/ims/token/v3`,
      revocation_endpoint: `${base}/ims/revoke`,
      userinfo_endpoint: `${base}/ims/profile/v1`,
      grant_types_supported: ['client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
      token_endpoint_auth_methods_supported: ['client_secret_post'],
      id_token_signing_alg_values_supported: [...new Set(deps.signingKeys().map((k) => k.alg))],
      response_types_supported: ['token'],
      subject_types_supported: ['public'],
    };
  });
}
