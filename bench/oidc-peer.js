// The peer for the exchange benchmark: oidc-provider (a certified OpenID provider) issuing
// client-credentials tokens with an ES256 key, in its own process. Prints its URL when ready.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
const provider = new Provider('http://127.0.0.1', {
  clients: [
    {
      client_id: 'bench',
      client_secret: 'bench-secret-bench-secret-bench-secret',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'ES256',
    },
  ],
  features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
  jwks: { keys: [{ ...jwk, kid: 'k1', alg: 'ES256', use: 'sig' }] },
  ttl: { ClientCredentials: 86400 },
});
const server = provider.listen(0, '127.0.0.1', () => {
  console.log(`oidc-provider listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
