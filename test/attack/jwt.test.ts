import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { verifyAccessToken } from '../../src/access-token/verify.js';
import { lowSCompactJws } from '../../src/crypto/ecdsa-low-s.js';
import { LatchkeyError } from '../../src/errors.js';
import { signAccessToken } from '../../src/ims/access-token.js';
import type { ServiceCredentials } from '../../src/ims/credentials.js';
import { verifyExchangeJwt } from '../../src/ims/exchange-jwt.js';
import { getRecordValue, type Integration, NS } from '../../src/ims/model.js';
import { loadSigningKeys, type SigningKey } from '../../src/ims/signing-keys.js';
import { checkAccessToken } from '../../src/ims/validate-token.js';
import { testIms } from '../helpers/ims.js';
import { anyText, b64u, campaign, mutate } from './campaign.js';

// JWTs of both kinds latchkey verifies: the assertions clients sign (the exchange JWT, RS256 with
// the integration's certificate) and the access tokens the IMS signs (ES256 or RS256, checked by
// instances and by the IMS itself). Each generated token records who really signed it; a token
// accepted that the key holder did not sign, or whose claims a plain reading refuses, is a
// forgery. Attacks: alg none, HS256 with the public key (PEM, DER, JWK, certificate) as the
// secret, the other algorithm of the key, kid injection, jku / x5u / jwk / x5c headers naming
// the attacker's key, crit, huge headers, bad or non-canonical base64url, duplicate and
// wrongly-typed claims.

type Signer = 'holder' | 'attacker' | 'none';
interface Forged {
  readonly token: string;
  readonly signer: Signer;
}

let ims: Awaited<ReturnType<typeof testIms>>;
let creds: ServiceCredentials;
let integration: Integration;
let holderKey: KeyObject; // the client's private key
let audiences: string[];
let imsKeys: SigningKey[];
const NOW_S = Math.floor(Date.now() / 1000);
const attacker = {
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ec: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
};

beforeAll(async () => {
  ims = await testIms();
  creds = await ims.credentials();
  integration = (await getRecordValue<Integration>(
    ims.store,
    NS.integration,
    creds.integration.technicalAccount.clientId,
  ))!;
  holderKey = createPrivateKey(creds.integration.privateKey);
  audiences = [ims.publicUrl.url];
  imsKeys = [
    ...(await loadSigningKeys(ims.store, ims.keys.keyring, 'ES256')),
    ...(await loadSigningKeys(ims.store, ims.keys.keyring, 'RS256')),
  ];
});
afterAll(() => ims.close());

/** Signs `header.payload` (raw JSON texts, so that duplicates survive) with `alg`. */
function signRaw(alg: string, headerJson: string, payloadJson: string, key: unknown): string {
  const signed = `${b64u(headerJson)}.${b64u(payloadJson)}`;
  let sig: Buffer;
  if (alg === 'none') sig = Buffer.alloc(0);
  else if (alg.startsWith('HS'))
    sig = createHmac(`sha${alg.slice(2)}`, key as Buffer)
      .update(signed)
      .digest();
  else if (alg.startsWith('ES'))
    sig = sign('sha256', Buffer.from(signed), { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
  else sig = sign('sha256', Buffer.from(signed), key as KeyObject);
  const token = `${signed}.${b64u(sig)}`;
  return alg.startsWith('ES') ? lowSCompactJws(token) : token;
}

/** Every spelling of a public key an HS256 confusion attack may use as the secret. */
function publicSecrets(pub: KeyObject, certificate?: string): Buffer[] {
  const out = [
    Buffer.from(pub.export({ type: 'spki', format: 'pem' }) as string),
    pub.export({ type: 'spki', format: 'der' }) as Buffer,
    Buffer.from(JSON.stringify(pub.export({ format: 'jwk' }))),
  ];
  if (pub.asymmetricKeyType === 'rsa')
    out.push(Buffer.from(pub.export({ type: 'pkcs1', format: 'pem' }) as string));
  if (certificate) out.push(Buffer.from(certificate), Buffer.from(certificate.replace(/\r/g, '')));
  return out;
}

const injectedKid = fc.constantFrom(
  '../../../../dev/null',
  "' OR '1'='1",
  '/etc/passwd',
  '__proto__',
  'constructor',
  '',
  'x'.repeat(10_000),
  '0',
);

/** Extra header members an attacker adds to point a verifier at his own key. */
function keyHeaders(attackerPublic: KeyObject) {
  const jwk = attackerPublic.export({ format: 'jwk' });
  return fc.constantFrom<Record<string, unknown>>(
    {},
    { jku: 'http://127.0.0.1:1/jwks.json' },
    { x5u: 'http://127.0.0.1:1/cert.pem' },
    { jwk },
    { jwk, kid: undefined },
    { x5c: ['MIIBAAAA'] },
    { crit: ['exp'] },
    { crit: ['x-latchkey'], 'x-latchkey': true },
    { b64: false, crit: ['b64'] },
    { typ: 'at+jwt', cty: 'JWT' },
    { pad: 'A'.repeat(200_000) },
  );
}

/** Claims of a good exchange JWT, and the changes that make one wrong. */
function exchangeClaims(): Record<string, unknown> {
  return {
    exp: NOW_S + 600,
    iss: integration.orgId,
    sub: integration.technicalAccountId,
    aud: `${audiences[0]}/c/${integration.clientId}`,
    [`${audiences[0]}/s/ent_aem_cloud_api`]: true,
  };
}
const claimEdits = fc.constantFrom<[string, unknown][]>(
  [],
  [],
  [['exp', String(NOW_S + 600)]],
  [['exp', NOW_S - 3600]],
  [['exp', NOW_S + 10 * 24 * 3600]],
  [['exp', 1e300]],
  [['exp', null]],
  [['iss', ['x@AdobeOrg']]],
  [['iss', 42]],
  [['sub', { $ne: '' }]],
  [['aud', 7]],
  [['aud', ['https://ims-na1.adobelogin.com/c/x']]],
  [['iat', NOW_S + 3600]],
  [['iat', 'now']],
  [['nbf', NOW_S + 3600]],
  [['jti', 5]],
  [['jti', '']],
  [['jti', 'j'.repeat(300)]],
  [['https://ims-na1.adobelogin.com/s/ent_aem_cloud_api', true]],
  [['__proto__', { admin: true }]],
);

/** The claims as a plain reader sees them (JSON.parse: the last of duplicate names wins). */
function exchangeClaimsOk(payloadJson: string): boolean {
  const c = JSON.parse(payloadJson) as Record<string, unknown>;
  const exp = c['exp'];
  if (typeof exp !== 'number' || exp <= NOW_S - 30 || exp > NOW_S + 24 * 3600 + 30) return false;
  if (c['iss'] !== integration.orgId || c['sub'] !== integration.technicalAccountId) return false;
  if (c['aud'] !== `${audiences[0]}/c/${integration.clientId}`) return false;
  for (const n of ['iat', 'nbf'])
    if (n in c && (typeof c[n] !== 'number' || (c[n] as number) > NOW_S + 30)) return false;
  if ('jti' in c) return false; // the generator's jtis are all bad or replayed
  const scopes = Object.entries(c).filter(([k, v]) => v === true && /\/s\/[^/]+$/.test(k));
  // A member named __proto__ is a claim like any other (JSON.parse makes it an own property).
  return scopes.length > 0 && scopes.every(([k]) => k === `${audiences[0]}/s/ent_aem_cloud_api`);
}

function payloadText(edits: [string, unknown][], duplicate: boolean): string {
  const claims = exchangeClaims();
  let text = JSON.stringify(claims);
  for (const [k, v] of edits) {
    if (v === null) {
      delete claims[k];
      text = JSON.stringify(claims);
    } else if (duplicate) {
      // Appended as a second member of the same name (the original stays first).
      text = `${text.slice(0, -1)},${JSON.stringify(k)}:${JSON.stringify(v)}}`;
    } else {
      claims[k] = v;
      text = JSON.stringify(claims);
    }
  }
  if (duplicate && edits.length === 0) text = `{"iss":"attacker@AdobeOrg",${text.slice(1)}`; // the genuine value comes last
  return text;
}

const exchangeToken = () =>
  fc
    .tuple(
      fc.constantFrom<string>(
        'RS256',
        'none',
        'HS256',
        'RS256-attacker',
        'ES256-attacker',
        'PS256',
      ),
      claimEdits,
      fc.boolean(),
      keyHeaders(attacker.rsa.publicKey),
      fc.option(injectedKid, { nil: undefined }),
      fc.nat({ max: 5 }),
    )
    .map(([how, edits, duplicate, extra, kid, secretIndex]): Forged & { payload: string } => {
      const payload = payloadText(edits, duplicate);
      const alg = how.split('-')[0]!;
      const header = JSON.stringify({ alg, typ: 'JWT', ...(kid ? { kid } : {}), ...extra });
      if (how === 'RS256') {
        return { token: signRaw('RS256', header, payload, holderKey), signer: 'holder', payload };
      }
      if (how === 'HS256') {
        const secrets = publicSecrets(createPublicKey(holderKey), creds.integration.publicKey);
        const secret = secrets[secretIndex % secrets.length]!;
        return { token: signRaw('HS256', header, payload, secret), signer: 'attacker', payload };
      }
      if (how === 'PS256' || how === 'none')
        return {
          token: signRaw(how === 'none' ? 'none' : 'RS256', header, payload, holderKey),
          signer: how === 'none' ? 'none' : 'holder',
          payload,
        };
      const key = how.startsWith('ES') ? attacker.ec.privateKey : attacker.rsa.privateKey;
      return { token: signRaw(alg, header, payload, key), signer: 'attacker', payload };
    });

const isTyped = (err: unknown) => err instanceof LatchkeyError && err.status < 500;

describe('JWT assertions (exchange JWT)', () => {
  it('only the holder’s RS256 signature over good claims is accepted', async ({ task }) => {
    const input = fc.oneof(
      { weight: 6, arbitrary: exchangeToken() },
      {
        weight: 2,
        arbitrary: exchangeToken().chain((f) =>
          mutate(f.token).map((t) => ({ ...f, token: t, tampered: t !== f.token })),
        ),
      },
      {
        weight: 1,
        arbitrary: anyText.map((t) => ({ token: t, signer: 'none' as Signer, payload: '{}' })),
      },
    );
    await campaign(
      task,
      'JWT assertion (exchange)',
      input,
      async (f) => {
        try {
          await verifyExchangeJwt(
            { store: ims.store, audiences: () => audiences },
            integration,
            f.token,
            Date.now(),
          );
        } catch (err) {
          if (isTyped(err)) return 'refused';
          throw err;
        }
        const tampered = 'tampered' in f && f.tampered;
        return f.signer === 'holder' &&
          !tampered &&
          !critical(f.token) &&
          exchangeClaimsOk(f.payload)
          ? 'accepted'
          : 'forgery';
      },
      {
        sample: 150,
        full: 6_000,
        show: (f) =>
          `${f.signer} ${f.token.split('.')[0]!.slice(0, 100)} ${f.payload.slice(0, 400)}`,
      },
    );
  });
});

/** Access-token claims as the IMS writes them, and ways to make them wrong. */
const accessEdits = fc.constantFrom<[string, unknown][]>(
  [],
  [],
  [['type', 'id_token']],
  [['type', null]],
  [['exp', String(NOW_S + 600)]],
  [['exp', NOW_S - 10]],
  [['client_id', 42]],
  [['user_id', ['admin']]],
  [['user_id', null]],
  [['env', 'p9-e9']],
  [['created_at', 'yesterday']],
  [['iss', 'https://ims.example/ims']],
  [['iss', null]],
  [['nbf', NOW_S + 3600]],
);

function accessPayload(edits: [string, unknown][], duplicate: boolean): string {
  const claims: Record<string, unknown> = {
    id: 'x',
    type: 'access_token',
    client_id: 'cm-p1-e1-integration',
    user_id: 'admin',
    created_at: String(Date.now()),
    env: 'p1-e1',
    iss: ISSUER(),
    exp: NOW_S + 600,
    iat: NOW_S,
  };
  let text = JSON.stringify(claims);
  for (const [k, v] of edits) {
    if (v === null) {
      delete claims[k];
      text = JSON.stringify(claims);
    } else if (duplicate) text = `${text.slice(0, -1)},${JSON.stringify(k)}:${JSON.stringify(v)}}`;
    else {
      claims[k] = v;
      text = JSON.stringify(claims);
    }
  }
  return text;
}

/** The issuer of the IMS under attack, known once it started. */
const ISSUER = () => `${ims.publicUrl.url}/ims`;

function accessClaimsOk(payloadJson: string): boolean {
  const c = JSON.parse(payloadJson) as Record<string, unknown>;
  return (
    c['type'] === 'access_token' &&
    c['iss'] === ISSUER() &&
    typeof c['exp'] === 'number' &&
    c['exp'] > NOW_S &&
    typeof c['client_id'] === 'string' &&
    typeof c['user_id'] === 'string'
  );
}

const accessToken = () =>
  fc
    .tuple(
      fc.nat({ max: 1 }),
      fc.constantFrom('own', 'none', 'HS256', 'other-alg', 'attacker', 'attacker-kid-injection'),
      accessEdits,
      fc.boolean(),
      keyHeaders(attacker.ec.publicKey),
      injectedKid,
      fc.nat({ max: 5 }),
    )
    .map(([k, how, edits, duplicate, extra, kid, secretIndex]): Forged & { payload: string } => {
      const key = imsKeys[k % imsKeys.length]!;
      const other = imsKeys.find((o) => o.alg !== key.alg)!;
      const payload = accessPayload(edits, duplicate);
      const head = (alg: string, id = key.kid) =>
        JSON.stringify({ alg, kid: id, typ: 'JWT', ...extra });
      switch (how) {
        case 'own':
          return {
            token: signRaw(key.alg, head(key.alg), payload, key.privateKey),
            signer: 'holder',
            payload,
          };
        case 'none':
          return { token: signRaw('none', head('none'), payload, null), signer: 'none', payload };
        case 'HS256': {
          const secrets = publicSecrets(createPublicKey(key.privateKey));
          const secret = secrets[secretIndex % secrets.length]!;
          return {
            token: signRaw('HS256', head('HS256'), payload, secret),
            signer: 'attacker',
            payload,
          };
        }
        case 'other-alg':
          // Signed by the IMS's other key, under this key's id and algorithm name.
          return {
            token: signRaw(other.alg, head(key.alg), payload, other.privateKey),
            signer: 'attacker',
            payload,
          };
        case 'attacker':
          return {
            token: signRaw('ES256', head('ES256'), payload, attacker.ec.privateKey),
            signer: 'attacker',
            payload,
          };
        default:
          return {
            token: signRaw('ES256', head('ES256', kid), payload, attacker.ec.privateKey),
            signer: 'attacker',
            payload,
          };
      }
    });

const accessInput = () =>
  fc.oneof(
    { weight: 6, arbitrary: accessToken() },
    {
      weight: 2,
      arbitrary: accessToken().chain((f) =>
        mutate(f.token).map((t) => ({ ...f, token: t, tampered: t !== f.token })),
      ),
    },
    {
      weight: 1,
      arbitrary: anyText.map((t) => ({ token: t, signer: 'none' as Signer, payload: '{}' })),
    },
  );

/** Whether the token's header marks a member critical (which no verifier here understands). */
function critical(token: string): boolean {
  try {
    return 'crit' in JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
  } catch {
    return false;
  }
}

const judge = (f: Forged & { payload: string }, accepted: boolean) => {
  if (!accepted) return 'refused' as const;
  const tampered = 'tampered' in f && (f as { tampered: boolean }).tampered;
  return f.signer === 'holder' && !tampered && !critical(f.token) && accessClaimsOk(f.payload)
    ? 'accepted'
    : 'forgery';
};

describe('access tokens', () => {
  it('instances accept only the IMS’s own signature, with its key’s algorithm', async ({
    task,
  }) => {
    const published = new Map(
      imsKeys.map((k) => [k.kid, { kid: k.kid, alg: k.alg, key: createPublicKey(k.privateKey) }]),
    );
    await campaign(
      task,
      'access token (instance)',
      accessInput(),
      (f) =>
        judge(
          f,
          verifyAccessToken(f.token, (kid) => published.get(kid), {
            issuer: ISSUER(),
            now: Date.now(),
          }).ok,
        ),
      { sample: 150, full: 15_000, show: (f) => `${f.signer} ${f.token.slice(0, 300)}` },
    );
  });

  it('the IMS (validate_token, introspect, revoke) accepts only its own', async ({ task }) => {
    await campaign(
      task,
      'access token (IMS)',
      accessInput(),
      (f) =>
        judge(
          f,
          checkAccessToken(
            f.token,
            (kid) => imsKeys.find((k) => k.kid === kid)?.verification,
            { issuer: ISSUER(), now: Date.now() },
            () => false,
          ).valid,
        ),
      { sample: 150, full: 15_000, show: (f) => `${f.signer} ${f.token.slice(0, 300)}` },
    );
  });

  it('over HTTP: /ims/validate_token/v1 says valid only for genuine tokens', async ({ task }) => {
    const key = imsKeys[0]!;
    const genuine = await signAccessToken(
      key,
      { clientId: 'cm-p1-e1-integration', userId: 'admin', scope: 'openid', environment: 'p1-e1' },
      { issuer: `${ims.publicUrl.url}/ims`, as: 'ims-na1' },
      Date.now(),
      'dev-token',
    );
    const input = fc.oneof(
      accessInput(),
      mutate(genuine.token).map((t) => ({
        token: t,
        signer: (t === genuine.token ? 'holder' : 'attacker') as Signer,
        payload: accessPayload([], false),
      })),
    );
    await campaign(
      task,
      'access token over HTTP',
      input,
      async (f) => {
        const res = await ims.app.inject({
          method: 'POST',
          url: '/ims/validate_token/v1',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams({ type: 'access_token', token: f.token }).toString(),
        });
        if (res.statusCode >= 500) return 'crash';
        return judge(f, res.statusCode === 200 && res.json().valid === true);
      },
      { sample: 60, full: 500, hangMs: 10_000, show: (f) => f.token.slice(0, 300) },
    );
  });
});
