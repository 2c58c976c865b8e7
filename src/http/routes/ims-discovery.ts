import type { FastifyInstance } from 'fastify';
import { ImsError } from '../../ims/errors.js';
import { authorizationServerMetadata, ENDPOINT_PATHS } from '../../ims/metadata.js';
import { DEFAULT_METASCOPE } from '../../ims/model.js';
import type { PublicUrl } from '../../ims/public-url.js';
import { imsSchemas } from '../schemas/ims.js';

/**
 * The IMS's metadata, one document at both well-known locations: OpenID Discovery's
 * `/ims/.well-known/openid-configuration` and RFC 8414's `/.well-known/oauth-authorization-server/ims`
 * (the issuer's path, `/ims`, appended to the well-known prefix). Also the authorization endpoint
 * the metadata must name, which refuses every response type (there is no interactive sign-in).
 */
export function imsDiscoveryRoutes(app: FastifyInstance, publicUrl: () => PublicUrl) {
  const metadata = async () => authorizationServerMetadata(publicUrl(), [DEFAULT_METASCOPE]);
  app.get(
    '/ims/.well-known/openid-configuration',
    { schema: imsSchemas.metadata('OpenID Discovery') },
    metadata,
  );
  app.get(
    '/.well-known/oauth-authorization-server/ims',
    { schema: imsSchemas.metadata('RFC 8414') },
    metadata,
  );

  // v1 is the one @adobe/aio-lib-ims's getSusiUrl builds.
  // GET and POST, as OpenID Connect requires of an authorization endpoint.
  for (const path of [ENDPOINT_PATHS.authorization, '/ims/authorize/v1']) {
    app.route({
      method: ['GET', 'POST'],
      url: path,
      schema: structuredClone(imsSchemas.authorize),
      handler: async () => {
        // RFC 6749, section 4.1.2.1: no client has a registered redirect_uri, so never redirect.
        throw new ImsError(
          'unsupported_response_type',
          'this IMS has no interactive sign-in: it issues tokens to services (client_credentials, the RFC 7523 jwt-bearer grant, /ims/exchange/jwt) and development tokens (latchkey token dev)',
        );
      },
    });
  }
}
