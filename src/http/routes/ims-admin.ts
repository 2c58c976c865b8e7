import type { FastifyInstance, FastifyRequest } from 'fastify';
import { setAuditActor } from '../../audit/record.js';
import { parseBasic } from '../../auth/basic.js';
import { type CredentialThrottle, throttledCheck } from '../../auth/throttle.js';
import { UnauthorizedError } from '../../errors.js';
import type { TokenIssuer } from '../../ims/access-token.js';
import { addCertificate, removeCertificate } from '../../ims/add-certificate.js';
import { authenticateImsAdmin } from '../../ims/administrators.js';
import { createCredentials } from '../../ims/credentials.js';
import { devToken } from '../../ims/dev-token.js';
import type { PublicUrl } from '../../ims/public-url.js';
import { revokeIntegration } from '../../ims/revocation.js';
import { listDevTokens, revokeDevTokens } from '../../ims/revoke-dev-tokens.js';
import type { SigningKey } from '../../ims/signing-keys.js';
import type { Store } from '../../store/types.js';
import { field, readForm } from '../read-form.js';
import { imsAdminSchemas } from '../schemas/ims.js';

export interface ImsAdminDeps {
  readonly store: Store;
  readonly signingKey: () => SigningKey;
  /** The deployment's public URL: new credentials name its host[:port]. */
  readonly publicUrl: () => PublicUrl;
  /** The issuer and `as` claim of development tokens. */
  readonly tokenIssuer: TokenIssuer;
  readonly passwordHashCost: number;
  readonly throttle: CredentialThrottle;
}

/**
 * The IMS admin API (HTTP Basic, IMS administrators only), the HTTP twin of the CLI:
 * `POST /ims/admin/credentials` (`environment`), `POST /ims/admin/credentials/<client id>/revoke`,
 * `POST /ims/admin/credentials/<client id>/certificates` (`certificate`: PEM, for rotation;
 * answers the new certificate's fingerprint),
 * `DELETE /ims/admin/credentials/<client id>/certificates/<SHA-256 fingerprint>` (hex, with or
 * without colons),
 * `POST /ims/admin/dev-token` (`user`, `environment`), `GET /ims/admin/dev-tokens` (`?user=`),
 * `POST /ims/admin/dev-tokens/revoke` (`jti`, or `user` for all of its tokens).
 */
export function imsAdminRoutes(app: FastifyInstance, deps: ImsAdminDeps) {
  const requireAdmin = async (request: FastifyRequest) => {
    const basic = parseBasic(request.headers.authorization);
    const ok =
      basic &&
      (await throttledCheck(deps.throttle, 'ims-admin', basic.user, request.ip, () =>
        authenticateImsAdmin(deps.store, basic.user, basic.password, deps.passwordHashCost),
      ));
    if (!ok) throw new UnauthorizedError('IMS administrator credentials required');
    setAuditActor(basic.user);
  };

  app.post(
    '/ims/admin/credentials',
    { schema: imsAdminSchemas.createCredentials },
    async (request, reply) => {
      await requireAdmin(request);
      const form = await readForm(request);
      const credentials = await createCredentials(deps.store, {
        environment: field(form, 'environment') ?? '',
        imsEndpoint: deps.publicUrl().imsEndpoint,
      });
      return reply.code(201).send(credentials);
    },
  );

  app.post<{ Params: { clientId: string } }>(
    '/ims/admin/credentials/:clientId/revoke',
    { schema: imsAdminSchemas.revokeCredentials },
    async (request) => {
      await requireAdmin(request);
      await revokeIntegration(deps.store, request.params.clientId);
      return { revoked: request.params.clientId };
    },
  );

  app.post<{ Params: { clientId: string } }>(
    '/ims/admin/credentials/:clientId/certificates',
    { schema: imsAdminSchemas.addCertificate },
    async (request) => {
      await requireAdmin(request);
      const form = await readForm(request);
      const pem = field(form, 'certificate') ?? form.files.get('certificate')?.toString('utf8');
      return addCertificate(deps.store, request.params.clientId, pem);
    },
  );

  app.delete<{ Params: { clientId: string; fingerprint: string } }>(
    '/ims/admin/credentials/:clientId/certificates/:fingerprint',
    { schema: imsAdminSchemas.removeCertificate },
    async (request) => {
      await requireAdmin(request);
      return {
        certificates: await removeCertificate(
          deps.store,
          request.params.clientId,
          request.params.fingerprint,
        ),
      };
    },
  );

  app.post('/ims/admin/dev-token', { schema: imsAdminSchemas.devToken }, async (request) => {
    await requireAdmin(request);
    const form = await readForm(request);
    return devToken(deps.store, deps.signingKey(), {
      userId: field(form, 'user') ?? '',
      environment: field(form, 'environment') ?? '',
      issuer: deps.tokenIssuer,
    });
  });

  app.get<{ Querystring: { user?: string } }>(
    '/ims/admin/dev-tokens',
    { schema: imsAdminSchemas.listDevTokens },
    async (request) => {
      await requireAdmin(request);
      return { tokens: await listDevTokens(deps.store, request.query.user) };
    },
  );

  app.post(
    '/ims/admin/dev-tokens/revoke',
    { schema: imsAdminSchemas.revokeDevTokens },
    async (request) => {
      await requireAdmin(request);
      const form = await readForm(request);
      return revokeDevTokens(deps.store, { jti: field(form, 'jti'), user: field(form, 'user') });
    },
  );
}
