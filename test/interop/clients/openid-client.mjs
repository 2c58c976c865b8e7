// Run by test/interop/openid-client.test.ts in a folder holding credentials.json, with
// NODE_EXTRA_CA_CERTS trusting the IMS's CA: the real, unmodified openid-client from npm, used as
// its documentation says. Prints one JSON object of what it obtained.
import { createPrivateKey, randomUUID, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT } from 'jose';
import * as client from 'openid-client';

const { integration: i } = JSON.parse(readFileSync('credentials.json', 'utf8'));
const { clientId, clientSecret } = i.technicalAccount;
const issuer = new URL(`https://${i.imsEndpoint}/ims`);

// The credentials' private key (PKCS#1 PEM) as the CryptoKey PrivateKeyJwt takes.
const privateKey = await webcrypto.subtle.importKey(
  'pkcs8',
  createPrivateKey(i.privateKey).export({ type: 'pkcs8', format: 'der' }),
  { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  false,
  ['sign'],
);

const out = { tokens: {}, introspection: {}, userinfo: {} };

// OpenID Discovery and RFC 8414 discovery find the same metadata, with the issuer checked.
const oidc = await client.discovery(issuer, clientId, clientSecret);
const oauth2 = await client.discovery(issuer, clientId, clientSecret, undefined, {
  algorithm: 'oauth2',
});
out.metadata = oidc.serverMetadata();
out.metadataEqual =
  JSON.stringify(oidc.serverMetadata()) === JSON.stringify(oauth2.serverMetadata());

const methods = {
  client_secret_basic: [{}, client.ClientSecretBasic(clientSecret)],
  client_secret_post: [{}, client.ClientSecretPost(clientSecret)],
  private_key_jwt: [{}, client.PrivateKeyJwt(privateKey)],
};
const configs = {};
for (const [method, [metadata, auth]] of Object.entries(methods)) {
  const config = await client.discovery(issuer, clientId, metadata, auth);
  configs[method] = config;
  const tokens = await client.clientCredentialsGrant(config, { scope: 'ent_aem_cloud_api' });
  out.tokens[method] = tokens.access_token;
  out.introspection[method] = await client.tokenIntrospection(config, tokens.access_token);
  out.userinfo[method] = await client.fetchUserInfo(config, tokens.access_token, i.id);
}

// The RFC 7523 jwt-bearer grant, with the same JWT the Adobe exchange takes as assertion.
const base = `https://${i.imsEndpoint}`;
const assertion = await new SignJWT({ [`${base}/s/ent_aem_cloud_api`]: true })
  .setProtectedHeader({ alg: 'RS256' })
  .setIssuer(i.org)
  .setSubject(i.id)
  .setAudience(`${base}/c/${clientId}`)
  .setIssuedAt()
  .setExpirationTime('5m')
  .setJti(randomUUID())
  .sign(createPrivateKey(i.privateKey));
const bearer = await client.genericGrantRequest(
  configs.client_secret_basic,
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
  { assertion },
);
out.tokens.jwt_bearer = bearer.access_token;

// Revocation (RFC 7009) with each method; the revoked tokens are no longer active.
out.revoked = {};
for (const [method, config] of Object.entries(configs)) {
  const { access_token } = await client.clientCredentialsGrant(config);
  await client.tokenRevocation(config, access_token);
  out.revoked[method] = {
    token: access_token,
    introspection: await client.tokenIntrospection(config, access_token),
  };
}

// A wrong secret: openid-client surfaces the IMS's error.
try {
  await client.clientCredentialsGrant(
    await client.discovery(issuer, clientId, {}, client.ClientSecretBasic('wrong')),
  );
} catch (err) {
  out.wrongSecret = {
    name: err.name,
    status: err.status,
    challenges: err.cause?.map?.((c) => c.scheme),
    body: await err.response?.json(),
  };
}

process.stdout.write(JSON.stringify(out));
