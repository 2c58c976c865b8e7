import { errors, formBody, object, text } from './common.js';

/** Route schemas of the IMS (see common.ts for what a route schema does). */

const CLIENT_AUTH = {
  client_id: text('the client id (client_secret_post; optional with the other methods)'),
  client_secret: text('the client secret (client_secret_post)'),
  client_assertion_type: text(
    'urn:ietf:params:oauth:client-assertion-type:jwt-bearer (private_key_jwt)',
  ),
  client_assertion: text(
    'a JWT signed RS256 with the credentials’ private key: iss = sub = client id, aud = the issuer, exp ≤ 1 h, a fresh jti (private_key_jwt)',
  ),
};
const CLIENT_AUTH_NOTE =
  ' The client authenticates with HTTP Basic (client_secret_basic), client_id and client_secret fields (client_secret_post) or a client assertion (private_key_jwt); one method per request.';
const TOKEN = { token: text('an access token this IMS issued') };

const tokenFields = {
  grant_type: text('client_credentials, or urn:ietf:params:oauth:grant-type:jwt-bearer'),
  scope: text(
    'comma or space separated: metascopes of the integration and openid, AdobeID, read_organizations (default: all its metascopes)',
  ),
  assertion: text('jwt-bearer grant: the JWT /ims/exchange/jwt takes'),
  org_id: text('the integration’s organization (sent by @adobe/aio-lib-ims; checked when given)'),
  ...CLIENT_AUTH,
};

const tokenResponse = object(
  'an access token, expires_in in seconds',
  {
    access_token: text('a JWT'),
    token_type: { type: 'string', enum: ['bearer'] },
    expires_in: { type: 'integer' },
    scope: text('granted scopes, comma separated'),
  },
  { required: ['access_token', 'token_type', 'expires_in', 'scope'] },
);

const claims = {
  type: 'object',
  additionalProperties: true,
  description: 'the access token’s claims',
};

export const imsSchemas = {
  exchange: {
    summary: 'Exchange a signed JWT (service credentials) for an access token',
    description: `Adobe's JWT exchange: the JWT is signed RS256 with the credentials' private key, iss = org, sub = technical account, aud ending in /c/<client_id>, metascope claims, optional jti (never accepted twice).${CLIENT_AUTH_NOTE}`,
    tags: ['tokens'],
    body: formBody({ jwt_token: text('the signed JWT'), ...CLIENT_AUTH }),
    response: {
      200: object(
        'an access token, expires_in in milliseconds',
        {
          token_type: { type: 'string', enum: ['bearer'] },
          access_token: text('a JWT'),
          expires_in: { type: 'integer' },
        },
        { required: ['token_type', 'access_token', 'expires_in'] },
      ),
      ...errors(400, 401, 415, 429, 503),
    },
  },
  token: {
    summary: 'OAuth token endpoint: client_credentials and the RFC 7523 jwt-bearer grant',
    description: `Fields in the body or the query string.${CLIENT_AUTH_NOTE}`,
    tags: ['tokens'],
    body: formBody(tokenFields),
    querystring: { type: 'object', properties: tokenFields },
    response: { 200: tokenResponse, ...errors(400, 401, 415, 429, 503) },
  },
  keys: {
    summary: 'The public keys that sign access tokens (JWKS)',
    tags: ['keys'],
    response: {
      200: object(
        'a JSON Web Key Set, with the issuer its keys sign for (RFC 7517 section 5 allows further members): instances check a token’s iss against it',
        {
          keys: { type: 'array', items: { type: 'object', additionalProperties: true } },
          issuer: text('the deployment’s issuer, as the discovery document names it'),
        },
        { required: ['keys', 'issuer'] },
      ),
    },
  },
  validate: {
    summary: 'Adobe’s token validation',
    description: 'The token as a form field, or as Authorization: Bearer.',
    tags: ['tokens'],
    body: formBody({
      ...TOKEN,
      type: text('access_token'),
      client_id: text('ignored: any client may ask'),
    }),
    response: {
      200: object(
        '{"valid":true,"token":{claims}} or {"valid":false,"reason"}',
        {
          valid: { type: 'boolean' },
          token: claims,
          reason: text('expired, revoked, bad signature, unknown signing key, malformed token'),
        },
        { required: ['valid'] },
      ),
      ...errors(400, 415),
    },
  },
  revoke: (adobe: boolean) => ({
    summary: adobe
      ? 'Adobe’s invalidate_token (as @adobe/aio-lib-ims calls it): revoke a token'
      : 'RFC 7009 revocation',
    description: `Always 200 {} once the client authenticates; a token of another client is left alone.${CLIENT_AUTH_NOTE}`,
    tags: ['tokens'],
    body: formBody({
      ...TOKEN,
      token_type_hint: text('ignored'),
      ...(adobe ? { token_type: text('ignored'), cascading: text('ignored') } : {}),
      ...CLIENT_AUTH,
    }),
    response: {
      200: { description: 'done', type: 'object', additionalProperties: false },
      ...errors(400, 401, 415, 429, 503),
    },
  }),
  introspect: {
    summary: 'RFC 7662 token introspection',
    description: `The client's own valid tokens are active; anything else is {"active":false}.${CLIENT_AUTH_NOTE}`,
    tags: ['tokens'],
    body: formBody({ ...TOKEN, token_type_hint: text('ignored'), ...CLIENT_AUTH }),
    response: {
      200: object(
        'the token’s state',
        {
          active: { type: 'boolean' },
          client_id: { type: 'string' },
          scope: text('space separated'),
          token_type: { type: 'string' },
          sub: { type: 'string' },
          iss: { type: 'string' },
          exp: { type: 'integer' },
          iat: { type: 'integer' },
          jti: { type: 'string' },
        },
        { required: ['active'] },
      ),
      ...errors(400, 401, 415, 429, 503),
    },
  },
  profile: (method: 'GET' | 'POST') => ({
    summary: 'The profile of an access token’s owner (OpenID userinfo)',
    ...(method === 'POST'
      ? { description: 'The token as Authorization: Bearer, or as the access_token form field.' }
      : {}),
    tags: ['tokens'],
    security: [{ bearer: [] }],
    ...(method === 'POST'
      ? { body: formBody({ access_token: text('the access token (RFC 6750, section 2.2)') }) }
      : {}),
    response: {
      200: object(
        'the profile',
        {
          userId: { type: 'string' },
          sub: { type: 'string' },
          account_type: { type: 'string', enum: ['technical', 'user'] },
          client_id: { type: 'string' },
        },
        { required: ['userId', 'sub', 'account_type'] },
      ),
      ...errors(...(method === 'POST' ? [400, 401, 415] : [401])),
    },
  }),
  organizations: {
    summary: 'The organizations of an access token’s owner, as Adobe lists them',
    tags: ['tokens'],
    security: [{ bearer: [] }],
    response: {
      200: {
        description: 'organizations (org id = orgRef.ident@orgRef.authSrc)',
        type: 'array',
        items: object(
          'an organization',
          {
            orgName: { type: 'string' },
            orgRef: object('', { ident: { type: 'string' }, authSrc: { type: 'string' } }),
            orgType: { type: 'string' },
            groups: { type: 'array', items: { type: 'object', additionalProperties: true } },
          },
          { required: ['orgName', 'orgRef'] },
        ),
      },
      ...errors(401),
    },
  },
  revocations: {
    summary: 'The revocation list instances pull',
    tags: ['keys'],
    response: {
      200: object(
        'revoked token ids, and integrations and IMS users (by the SHA-256 of their ids, hex) whose tokens up to a time (ms) are revoked',
        {
          jtis: { type: 'array', items: { type: 'string' } },
          clients: { type: 'object', additionalProperties: { type: 'integer' } },
          users: { type: 'object', additionalProperties: { type: 'integer' } },
        },
        { required: ['jtis', 'clients', 'users'] },
      ),
    },
  },
  metadata: (where: string) => ({
    summary: `Authorization server metadata (${where})`,
    description:
      'One document at the OpenID Discovery and RFC 8414 locations: issuer, endpoints, grant types, client authentication methods.',
    tags: ['discovery'],
    response: {
      200: object(
        'the metadata',
        {
          issuer: { type: 'string' },
          token_endpoint: { type: 'string' },
          jwks_uri: { type: 'string' },
        },
        { required: ['issuer', 'token_endpoint', 'jwks_uri'], additionalProperties: true },
      ),
    },
  }),
  authorize: {
    summary:
      'Authorization endpoint (GET and POST): no interactive sign-in, every response type is refused',
    tags: ['discovery'],
    response: { ...errors(400) },
  },
};

const credentialsJson = object(
  'service credentials, exactly as the Developer Console hands them out (shown once)',
  {
    ok: { type: 'boolean' },
    integration: object('', {
      imsEndpoint: { type: 'string' },
      metascopes: { type: 'string' },
      technicalAccount: object('', {
        clientId: { type: 'string' },
        clientSecret: { type: 'string' },
      }),
      email: { type: 'string' },
      id: { type: 'string' },
      org: { type: 'string' },
      privateKey: { type: 'string' },
      publicKey: { type: 'string' },
    }),
    statusCode: { type: 'integer' },
  },
);
const clientIdParam = {
  type: 'object',
  properties: { clientId: text('e.g. cm-p1-e1-integration') },
  required: ['clientId'],
};
// 403: a write sent by another origin's page (csrf_origin).
const adminErrors = errors(400, 401, 403, 404, 415, 429, 503);
const createErrors = errors(400, 401, 403, 404, 409, 415, 429, 503);
const devTokenJson = {
  type: 'object',
  properties: {
    jti: text('the token’s id'),
    user: text('the IMS user'),
    environment: text('e.g. p1-e1'),
    issuedAt: { type: 'integer', description: 'ms since the epoch' },
    expiresAt: { type: 'integer', description: 'ms since the epoch' },
    revoked: { type: 'boolean' },
  },
};

export const imsAdminSchemas = {
  createCredentials: {
    summary: 'Create service credentials for an environment',
    tags: ['admin'],
    security: [{ basic: [] }],
    body: formBody({ environment: text('e.g. p1-e1') }),
    response: { 201: credentialsJson, ...createErrors },
  },
  revokeCredentials: {
    summary: 'Revoke an integration: its secret, certificates and every token issued to it',
    tags: ['admin'],
    security: [{ basic: [] }],
    params: clientIdParam,
    response: { 200: object('revoked', { revoked: { type: 'string' } }), ...adminErrors },
  },
  addCertificate: {
    summary: 'Add a certificate to an integration (certificate rotation)',
    tags: ['admin'],
    security: [{ basic: [] }],
    params: clientIdParam,
    body: formBody(
      { certificate: text('an X.509 certificate holding an RSA key, PEM (or an uploaded file)') },
      { files: ['certificate'] },
    ),
    response: {
      200: object('how many certificates the integration has, and the new one’s fingerprint', {
        certificates: { type: 'integer' },
        fingerprint: text('its SHA-256 fingerprint: 64 lowercase hex digits'),
      }),
      ...adminErrors,
    },
  },
  removeCertificate: {
    summary: 'Remove a certificate of an integration (at least one stays)',
    tags: ['admin'],
    security: [{ basic: [] }],
    params: {
      type: 'object',
      properties: {
        clientId: text('e.g. cm-p1-e1-integration'),
        fingerprint: text(
          'the certificate’s SHA-256 fingerprint: 64 hex digits as credentials list shows them, or with colons (AA:BB:…)',
        ),
      },
      required: ['clientId', 'fingerprint'],
    },
    response: {
      200: object('how many certificates the integration has', {
        certificates: { type: 'integer' },
      }),
      ...adminErrors,
    },
  },
  devToken: {
    summary: 'A local development token for an IMS user',
    tags: ['admin'],
    security: [{ basic: [] }],
    body: formBody({
      user: text('the user id (the same id must exist on the instances)'),
      environment: text('e.g. p1-e1'),
    }),
    response: {
      200: object('the Developer Console’s JSON', {
        ok: { type: 'boolean' },
        statusCode: { type: 'integer' },
        accessToken: { type: 'string' },
      }),
      ...adminErrors,
    },
  },
  listDevTokens: {
    summary: 'The development tokens that have not expired',
    tags: ['admin'],
    security: [{ basic: [] }],
    querystring: {
      type: 'object',
      properties: { user: text('only this user’s tokens') },
    },
    response: {
      200: object('the tokens (their ids, never the tokens)', {
        tokens: { type: 'array', items: devTokenJson },
      }),
      ...errors(400, 401, 429, 503),
    },
  },
  revokeDevTokens: {
    summary: 'Revoke one development token, or every token of a user',
    tags: ['admin'],
    security: [{ basic: [] }],
    body: formBody({
      jti: text('one token’s id (latchkey token list)'),
      user: text('or a user: every token issued for it so far'),
    }),
    response: {
      200: object('how many live tokens the revocation covers', {
        revoked: { type: 'integer' },
      }),
      ...adminErrors,
    },
  },
};
