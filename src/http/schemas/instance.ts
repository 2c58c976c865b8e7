import { errors, formBody, object, repeatable, text } from './common.js';

/** Route schemas of content instances (see common.ts for what a route schema does). */

const ADMIN: Record<string, string[]>[] = [{ basic: [] }, { loginToken: [] }, { bearer: [] }];
const anyObject = (description: string) => ({
  description,
  type: 'object',
  additionalProperties: true,
});
const slingStatus = (description: string, extra: Record<string, unknown> = {}) =>
  object(description, {
    changes: {
      type: 'array',
      items: object('a change', { type: { type: 'string' }, argument: { type: 'string' } }),
    },
    path: { type: 'string' },
    location: { type: 'string' },
    parentLocation: { type: 'string' },
    'status.code': { type: 'integer' },
    'status.message': { type: 'string' },
    title: { type: 'string' },
    ...extra,
  });
const repositoryPath = {
  type: 'object',
  properties: {
    '*': text(
      'the repository path, with Sling selectors and extension: content/site.1.json, content/site.acl.json, content/site.modifyAce.json, …',
    ),
  },
};

export const loginSchemas = {
  login: {
    summary: 'Sign in: sets the login-token cookie',
    tags: ['login'],
    body: formBody({
      j_username: text('user id'),
      j_password: text('password', { format: 'password' }),
      resource: text('a same-site path to redirect to afterwards (302)'),
    }),
    response: {
      200: object('signed in', { authorizableId: { type: 'string' }, home: { type: 'string' } }),
      302: { description: 'signed in; redirected to resource' },
      ...errors(400, 403, 415, 429, 503),
    },
  },
  logout: (method: 'GET' | 'POST') => ({
    summary:
      method === 'POST'
        ? 'Sign out: ends the session and clears the cookie'
        : 'Sign out from the server’s own pages (same origin only)',
    tags: ['login'],
    querystring: {
      type: 'object',
      properties: { resource: text('a same-site path to redirect to afterwards (302)') },
    },
    response: {
      200: object('signed out', { loggedOut: { type: 'boolean' } }),
      302: { description: 'signed out; redirected to resource' },
      ...errors(403),
    },
  }),
  currentUser: {
    summary: 'Who the request is authenticated as',
    tags: ['login'],
    response: {
      200: object('the user, or anonymous', {
        authorizableId: { type: 'string' },
        home: { type: 'string' },
        anonymous: { type: 'boolean' },
        admin: { type: 'boolean' },
      }),
    },
  },
};

export const configMgrSchemas = {
  post: {
    summary: 'Configure the token handler, as the Felix console’s form does',
    tags: ['configuration'],
    security: ADMIN,
    params: {
      type: 'object',
      properties: { pid: text('com.day.crx.security.token.impl.impl.TokenAuthenticationHandler') },
    },
    body: formBody({
      apply: text('true'),
      propertylist: text(
        'comma separated names of the properties set (a listed Boolean that is missing is false)',
      ),
      'token.encapsulated': text('true or false'),
      'token.expiration': text('lifetime in ms'),
      'token.samesite.cookie.attr': text('Lax, Strict or None'),
    }),
    response: { 200: anyObject('the configuration'), ...errors(400, 401, 403, 404, 415) },
  },
  get: {
    summary: 'The token handler’s configuration (<pid>.json)',
    tags: ['configuration'],
    security: ADMIN,
    params: {
      type: 'object',
      properties: {
        pid: text('com.day.crx.security.token.impl.impl.TokenAuthenticationHandler.json'),
      },
    },
    response: { 200: anyObject('the configuration'), ...errors(401, 403, 404) },
  },
};

export const cryptoConsoleSchemas = {
  protect: {
    summary: 'Protect (seal) a value with the master key, as AEM’s crypto console',
    tags: ['crypto'],
    security: ADMIN,
    body: formBody({ datum: text('the value to protect') }),
    response: {
      200: object('the protected value', { protected: text('{lk1.<key id>.<data>}') }),
      ...errors(400, 401, 403, 415),
    },
  },
  refresh: {
    summary: 'Reload the keys from their storage without a restart',
    tags: ['crypto'],
    security: ADMIN,
    response: {
      200: object('the keys now loaded', {
        master: object('', {
          primary: { type: 'string' },
          versions: { type: 'array', items: { type: 'string' } },
        }),
        hmac: object('', {
          primary: { type: 'string' },
          versions: { type: 'array', items: { type: 'string' } },
        }),
        aemMaster: { type: 'boolean' },
      }),
      ...errors(401, 403),
    },
  },
};

const loadedKeys = (description: string) =>
  object(description, {
    master: object('', {
      primary: { type: 'string' },
      versions: { type: 'array', items: { type: 'string' } },
    }),
    hmac: object('', {
      primary: { type: 'string' },
      versions: { type: 'array', items: { type: 'string' } },
    }),
    aemMaster: { type: 'boolean' },
  });
export const cryptoKeysSchemas = {
  get: {
    summary: 'The keys in use: each kind’s primary and every version, by id',
    tags: ['crypto'],
    security: ADMIN,
    response: { 200: loadedKeys('the keys in use'), ...errors(401, 403) },
  },
  install: {
    summary:
      'Install a key bundle (latchkey keys push) and reload the keys without a restart; verify-only adds its keys as older versions',
    tags: ['crypto'],
    security: ADMIN,
    body: formBody(
      {
        bundle: text('the bundle as latchkey keys export writes it, unsealed'),
        mode: text('primary (default: its primaries become primary) or verify-only'),
      },
      { required: ['bundle'], files: ['bundle'] },
    ),
    response: { 200: loadedKeys('the keys now in use'), ...errors(400, 401, 403, 409, 413, 415) },
  },
  activate: {
    summary: 'Make a key version this instance holds the primary one (sign or seal with it)',
    tags: ['crypto'],
    security: ADMIN,
    body: formBody(
      { kind: text('hmac or master'), id: text('the key id (16 hex digits)') },
      { required: ['kind', 'id'] },
    ),
    response: { 200: loadedKeys('the keys now in use'), ...errors(400, 401, 403, 409, 415) },
  },
};

export const usersReplicationSchemas = {
  feed: {
    summary:
      'Users and groups for the instances subscribed to this one (password hashes only); ETag, 304 when unchanged',
    tags: ['users'],
    security: ADMIN,
    response: {
      200: object('every replicated user and group', {
        authorizables: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'kind', 'properties'],
            properties: {
              id: { type: 'string' },
              kind: { type: 'string', enum: ['user', 'group'] },
              properties: { type: 'object', additionalProperties: true },
              profile: { type: 'object', additionalProperties: true },
            },
          },
        },
      }),
      304: { description: 'nothing changed since the ETag given in If-None-Match' },
      ...errors(401, 403),
    },
  },
};

const configParams = {
  type: 'object',
  properties: { kind: text('ims'), name: text('the configuration’s name (GET: <name>.json)') },
};
export const protectedConfigSchemas = {
  save: {
    summary:
      'Create or update a protected configuration (secret fields sealed with the master key)',
    tags: ['configuration'],
    security: ADMIN,
    params: configParams,
    body: formBody(
      {
        imsEndpoint: text('ims: host[:port]'),
        org: text('ims: organization id'),
        technicalAccountId: text('ims: technical account id'),
        clientId: text('ims: client id'),
        clientSecret: text('ims: client secret (sealed)'),
        privateKey: text('ims: private key PEM, or an uploaded file (sealed)'),
        metascopes: text('ims: metascopes'),
      },
      { files: ['privateKey'] },
    ),
    response: {
      200: anyObject('updated; secrets shown sealed'),
      201: anyObject('created; secrets shown sealed'),
      ...errors(400, 401, 403, 404, 415),
    },
  },
  get: {
    summary: 'A protected configuration, secrets shown sealed',
    tags: ['configuration'],
    security: ADMIN,
    params: configParams,
    response: { 200: anyObject('the configuration'), ...errors(400, 401, 403, 404) },
  },
  list: {
    summary: 'Every protected configuration and whether its secrets open',
    tags: ['configuration'],
    security: ADMIN,
    response: {
      200: object('the configurations', {
        configurations: { type: 'array', items: { type: 'object', additionalProperties: true } },
      }),
      ...errors(401, 403),
    },
  },
};

export const authorizableSchema = {
  summary: 'Create a user or a group, as AEM’s user admin endpoint',
  tags: ['users'],
  security: ADMIN,
  body: formBody({
    createUser: text('present: create a user'),
    createGroup: text('present: create a group'),
    authorizableId: text('the id: 1–128 letters, digits and . _ @ + -'),
    'rep:password': text('the new user’s password', { format: 'password' }),
    membership: repeatable('a group to join (repeat the field for more)'),
    addMembers: repeatable('a member of the new group (repeat the field for more)'),
  }),
  response: {
    201: slingStatus('created (Location: its path)', { authorizableId: { type: 'string' } }),
    ...errors(400, 401, 403, 409, 415),
  },
};

export const slingSchemas = {
  get: {
    summary: 'Render a node as Sling does (.json, .N.json, .infinity.json, .tidy.json, .acl.json)',
    tags: ['repository'],
    params: repositoryPath,
    response: {
      200: anyObject('the node, its properties and the requested depth of children'),
      300: {
        description: 'too many nodes: the renderings that fit, deepest first',
        type: 'array',
        items: { type: 'string' },
      },
      ...errors(400, 401, 404, 414),
    },
  },
  post: {
    summary: 'Create, modify or delete a node; access control; user and group operations',
    description:
      'Sling POST: name=value (repeat for multiple values), name@TypeHint=Long, name@Delete, :operation=delete, jcr:primaryType; uploaded files become Binary properties. .modifyAce.json (principalId, privilege@<name>=granted|denied|none) and .deleteAce.json (:applyTo). On a user or group: rep:password, disableUser, deleteAuthorizable, addMembers, removeMembers, membership.',
    tags: ['repository'],
    params: repositoryPath,
    body: formBody({
      ':operation': text('delete, or modify (the default)'),
      'jcr:primaryType': text('the type of a node being created'),
      principalId: text('.modifyAce.json: the principal'),
      ':applyTo': repeatable('.deleteAce.json: a principal whose entries go (repeat for more)'),
    }),
    response: {
      200: slingStatus('modified'),
      201: slingStatus('created (Location: its path)'),
      ...errors(400, 401, 403, 404, 409, 413, 414, 415),
    },
  },
  other: {
    summary: 'PUT, DELETE, PATCH: not supported on repository paths (use GET or POST)',
    tags: ['repository'],
    params: repositoryPath,
    response: { ...errors(405) },
  },
};

export const csrfTokenSchema = {
  summary: 'A CSRF token for cookie-authenticated writes (header CSRF-Token), as AEM’s Granite',
  tags: ['login'],
  response: { 200: object('a token', { token: { type: 'string' } }, { required: ['token'] }) },
};
