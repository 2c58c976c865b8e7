// Run by test/interop/adobe-jwt-auth.test.ts in a folder holding credentials.json, with
// NODE_EXTRA_CA_CERTS trusting the IMS's CA: the real, unmodified @adobe/jwt-auth from npm, its
// `ims` option set to https:// + imsEndpoint.
import { readFileSync } from 'node:fs';
import auth from '@adobe/jwt-auth';

const { integration: i } = JSON.parse(readFileSync('credentials.json', 'utf8'));
const options = {
  clientId: i.technicalAccount.clientId,
  clientSecret: i.technicalAccount.clientSecret,
  technicalAccountId: i.id,
  orgId: i.org,
  privateKey: i.privateKey,
  metaScopes: i.metascopes.split(','),
  ims: `https://${i.imsEndpoint}`,
};
const token = await auth(options);
let wrongSecret;
try {
  await auth({ ...options, clientSecret: 'wrong' });
} catch (err) {
  wrongSecret = err.message;
}
process.stdout.write(JSON.stringify({ token, wrongSecret }));
