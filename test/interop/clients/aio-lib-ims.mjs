// Run by test/interop/adobe-aio-lib-ims.test.ts in a folder holding credentials.json, with
// NODE_EXTRA_CA_CERTS trusting the IMS's CA: the real, unmodified @adobe/aio-lib-ims from npm, its
// Ims instance's endpoint set to https:// + imsEndpoint. Every server-to-server call.
import { createPrivateKey, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import aio from '@adobe/aio-lib-ims';
import { SignJWT } from 'jose';

const { Ims } = aio;
const { integration: i } = JSON.parse(readFileSync('credentials.json', 'utf8'));
const { clientId, clientSecret } = i.technicalAccount;
const ims = new Ims();
ims.endpoint = `https://${i.imsEndpoint}`;
const out = {};

// getAccessTokenByClientCredentials: POST /ims/token/v2
const cc = await ims.getAccessTokenByClientCredentials(clientId, clientSecret, i.org, [
  'ent_aem_cloud_api',
  'openid',
]);
out.clientCredentials = cc;

// exchangeJwtToken: POST /ims/exchange/jwt
const jwt = await new SignJWT({ [`${ims.endpoint}/s/ent_aem_cloud_api`]: true })
  .setProtectedHeader({ alg: 'RS256' })
  .setIssuer(i.org)
  .setSubject(i.id)
  .setAudience(`${ims.endpoint}/c/${clientId}`)
  .setExpirationTime('5m')
  .setJti(randomUUID())
  .sign(createPrivateKey(i.privateKey));
out.exchange = await ims.exchangeJwtToken(clientId, clientSecret, jwt);

const token = cc.access_token.token;
// validateToken: POST /ims/validate_token/v1; getOrganizations: GET /ims/organizations/v6;
// get('/ims/profile/v1')
out.validate = await ims.validateToken(token);
out.organizations = await ims.getOrganizations(token);
out.profile = await ims.get('/ims/profile/v1', token);

// invalidateToken: POST /ims/invalidate_token/v2, on a token of its own (the others stay valid
// for the instance to accept).
const spare = (await ims.getAccessTokenByClientCredentials(clientId, clientSecret, i.org))
  .access_token.token;
out.validateSpare = await ims.validateToken(spare);
out.invalidate = await ims.invalidateToken(spare, clientId, clientSecret);
out.validateAfter = await ims.validateToken(spare);

// Ims.fromToken reads the as claim and knows only Adobe's hosts.
try {
  const found = await Ims.fromToken(out.exchange.access_token.token);
  out.fromToken = { endpoint: found.ims.endpoint };
} catch (err) {
  out.fromToken = { error: err.code };
}
process.stdout.write(JSON.stringify(out));
