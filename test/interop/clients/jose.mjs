// Run by test/interop/jose.test.ts in a folder holding credentials.json, with NODE_EXTRA_CA_CERTS
// trusting the IMS's CA: the real, unmodified jose from npm verifies access tokens against the
// discovered jwks_uri and issuer, as a resource server would.
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const { integration: i } = JSON.parse(readFileSync('credentials.json', 'utf8'));
const { clientId, clientSecret } = i.technicalAccount;
const meta = await (
  await fetch(`https://${i.imsEndpoint}/ims/.well-known/openid-configuration`)
).json();
const res = await fetch(meta.token_endpoint, {
  method: 'POST',
  body: new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: clientSecret,
  }),
});
const { access_token } = await res.json();
const jwks = createRemoteJWKSet(new URL(meta.jwks_uri));
const { payload, protectedHeader } = await jwtVerify(access_token, jwks, { issuer: meta.issuer });
let otherIssuer;
try {
  await jwtVerify(access_token, jwks, { issuer: 'https://ims-na1.adobelogin.com' });
} catch (err) {
  otherIssuer = err.code;
}
process.stdout.write(
  JSON.stringify({
    token: access_token,
    issuer: meta.issuer,
    payload,
    protectedHeader,
    otherIssuer,
  }),
);
