import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { ServiceCredentials } from '../../src/ims/credentials.js';
import { campaign } from '../attack/campaign.js';
import { testIms } from '../helpers/ims.js';

// Garbage of every shape at the endpoints that take client credentials, assertions and tokens:
// never a 5xx, always the one error shape.

let ims: Awaited<ReturnType<typeof testIms>>;
let creds: ServiceCredentials;
beforeAll(async () => {
  // Throttling off, so that refusals do not turn every later request into a 429.
  ims = await testIms({
    'throttle.maxFailuresPerUser': 1_000_000,
    'throttle.maxFailuresPerAddress': 1_000_000,
  });
  creds = await ims.credentials();
});
afterAll(() => ims.close());

const b64 = (s: string) => Buffer.from(s).toString('base64url');
const jwtish = fc
  .tuple(fc.json(), fc.json(), fc.string({ maxLength: 20 }))
  .map(([h, p, sig]) => `${b64(h)}.${b64(p)}.${b64(sig)}`);
const value = fc.oneof(
  fc.string({ maxLength: 40 }),
  jwtish,
  fc.constantFrom(
    'client_credentials',
    'urn:ietf:params:oauth:grant-type:jwt-bearer',
    'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    'cm-p1-e1-integration',
    '',
  ),
);
const name = fc.constantFrom(
  'grant_type',
  'client_id',
  'client_secret',
  'client_assertion_type',
  'client_assertion',
  'assertion',
  'scope',
  'org_id',
  'token',
  'jwt_token',
  'access_token',
  'token_type_hint',
  '__proto__',
  'constructor',
);
const form = fc.array(fc.tuple(name, value), { maxLength: 8 });
const authorization = fc.option(
  fc.oneof(
    fc.string({ maxLength: 30 }).map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
    fc.string({ maxLength: 30 }).map((s) => `Basic ${s}`),
    jwtish.map((t) => `Bearer ${t}`),
    fc.constant(() => `Basic ${b64(`${creds.integration.technicalAccount.clientId}:x`)}`),
  ),
);
const path = fc.constantFrom(
  '/ims/token/v3',
  '/ims/token/v2',
  '/ims/exchange/jwt',
  '/ims/revoke',
  '/ims/invalidate_token/v2',
  '/ims/introspect',
  '/ims/validate_token/v1',
  '/ims/profile/v1',
  '/ims/authorize/v2',
);

describe('IMS endpoints under garbage', () => {
  it('answer below 500 with {"error","error_description"} or a JSON success', async ({ task }) => {
    await campaign(
      task,
      'IMS endpoints',
      fc.tuple(path, form, authorization, fc.boolean()),
      async ([p, fields, auth, multipart]) => {
        const headers: Record<string, string> = {};
        if (auth !== null) headers['authorization'] = typeof auth === 'function' ? auth() : auth;
        let payload: string;
        if (multipart) {
          headers['content-type'] = 'multipart/form-data; boundary=fuzz';
          payload = `${fields
            .map(
              ([n, v]) => `--fuzz\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n`,
            )
            .join('')}--fuzz--\r\n`;
        } else {
          headers['content-type'] = 'application/x-www-form-urlencoded';
          payload = new URLSearchParams(fields).toString();
        }
        const res = await ims.app.inject({ method: 'POST', url: p, headers, payload });
        if (res.statusCode >= 500) return 'crash';
        const body = res.json();
        if (res.statusCode < 400) return 'accepted';
        return Object.keys(body).sort().join(',') === 'error,error_description'
          ? 'refused'
          : 'crash';
      },
      { sample: 400, full: 1_000, seed: 12, hangMs: 10_000 },
    );
  });
});
