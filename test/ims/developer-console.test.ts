import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange } from '../../src/client/exchange.js';
import type { ServiceCredentials } from '../../src/ims/credentials.js';
import { ConsoleClient, textOf } from '../helpers/console.js';
import { IMS_ADMIN_PASSWORD, testIms } from '../helpers/ims.js';

// The IMS Developer Console in process: sign-in, credentials shown once, certificates, revocation,
// development tokens and developers, through the forms a browser submits.

const SIGN_IN = '/ims/console/login';
const ENV = '/ims/console/environments/p1-e1';
let ims: Awaited<ReturnType<typeof testIms>>;

beforeAll(async () => {
  ims = await testIms();
});
afterAll(() => ims.close());

const fromHtml = (html: string) =>
  html
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
const shownJson = (html: string) =>
  JSON.parse(
    fromHtml(/<pre class="secret" id="shown-json"[^>]*>([\s\S]*?)<\/pre>/.exec(html)![1]!),
  );
const formIdOf = (html: string) => /name="form" value="([^"]+)"/.exec(html)![1]!;

async function admin(): Promise<ConsoleClient> {
  const c = new ConsoleClient(ims.app, 'ims-console');
  await c.signIn(SIGN_IN, 'admin', IMS_ADMIN_PASSWORD);
  return c;
}

async function getCredentials(c: ConsoleClient): Promise<ServiceCredentials> {
  const page = await c.get(ENV);
  const res = await c.post(`${ENV}/credentials`, [['form', formIdOf(page.body)]]);
  expect(res.statusCode).toBe(200);
  return shownJson(res.body) as ServiceCredentials;
}

describe('Developer Console: signing in', () => {
  it('sends a visitor to the sign-in page; a wrong password is said next to the field', async () => {
    const c = new ConsoleClient(ims.app, 'ims-console');
    const first = await c.get(ENV);
    expect(first.statusCode).toBe(303);
    expect(first.headers.location).toBe(
      `${SIGN_IN}?resource=%2Fims%2Fconsole%2Fenvironments%2Fp1-e1`,
    );
    const wrong = await c.post(SIGN_IN, [
      ['j_username', 'admin'],
      ['j_password', 'wrong'],
    ]);
    expect(wrong.statusCode).toBe(403);
    expect(wrong.body).toContain('id="password-error">The user name or password is wrong.<');
    expect(wrong.headers['set-cookie']).toBeUndefined();
  });

  it('starts a session in an HttpOnly, SameSite=Strict cookie for the console only; sign-out ends it', async () => {
    const c = new ConsoleClient(ims.app, 'ims-console');
    const res = await c.post(SIGN_IN, [
      ['j_username', 'admin'],
      ['j_password', IMS_ADMIN_PASSWORD],
    ]);
    expect(res.statusCode).toBe(303);
    expect(String(res.headers['set-cookie'])).toMatch(
      /^ims-console=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}; Path=\/ims\/console; HttpOnly; SameSite=Strict; Max-Age=28800$/,
    );
    const orgs = await c.get('/ims/console');
    expect(orgs.statusCode).toBe(200);
    expect(orgs.body).toContain('Default organization');
    expect(orgs.body).toContain('href="/ims/console/environments/p1-e1">Environment 1</a>');
    // An administrator finds each environment's developers from the start page.
    expect(orgs.body).toContain(
      'href="/ims/console/environments/p1-e1/developers">Developers of p1-e1</a>',
    );
    const session = c.cookie;
    const out = await c.post('/ims/console/logout', []);
    expect(out.statusCode).toBe(303);
    // The old cookie is refused, even sent again.
    const again = await ims.app.inject({ url: '/ims/console', headers: { cookie: session } });
    expect(again.statusCode).toBe(303);
    expect(String(again.headers['set-cookie'])).toMatch(/^ims-console=; .*Max-Age=0/);
  });

  it('answers a mistyped address under the console with a 404 page, not JSON', async () => {
    const page = await (await admin()).get('/ims/console/no-such-page');
    expect(page.statusCode).toBe(404);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(textOf(page.body, 'alert')).toEqual([
      'There is no page at this address in the Developer Console.',
    ]);
  });

  it('refuses a form without the page’s CSRF token, or from another origin', async () => {
    const c = await admin();
    const page = await c.get(ENV);
    const noToken = await c.post(`${ENV}/credentials`, [['form', formIdOf(page.body)]], {
      csrf: false,
    });
    expect(noToken.statusCode).toBe(403);
    const foreign = await c.post(`${ENV}/credentials`, [['form', formIdOf(page.body)]], {
      headers: { origin: 'https://evil.example' },
    });
    expect(foreign.statusCode).toBe(403);
    expect((await c.get(ENV)).body).not.toContain('cm-p1-e1-integration<');
  });
});

describe('Developer Console: service credentials', () => {
  it('shows the credentials JSON once, to copy or download, and they work', async () => {
    const c = await admin();
    const page = await c.get(ENV);
    const id = formIdOf(page.body);
    const res = await c.post(`${ENV}/credentials`, [['form', id]]);
    expect(res.statusCode).toBe(200);
    const json = shownJson(res.body) as ServiceCredentials;
    expect(json).toMatchObject({
      ok: true,
      statusCode: 200,
      integration: {
        imsEndpoint: ims.endpoint,
        metascopes: 'ent_aem_cloud_api',
        technicalAccount: { clientId: expect.stringMatching(/^cm-p1-e1-integration/) },
      },
    });
    expect(json.integration.privateKey).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\r\n/);
    expect(res.body).toContain('data-copy="shown-json"');
    expect(res.body).toMatch(
      /download="credentials.json" href="data:application\/json;charset=utf-8,%7B/,
    );
    const token = await exchange(json);
    expect(token.access_token).toMatch(/^ey/);
    // A reload posts the form again: nothing new is created, nothing shown again.
    const again = await c.post(`${ENV}/credentials`, [['form', id]]);
    expect(again.statusCode).toBe(409);
    expect(again.body).toMatch(
      /id="credentials-error">These credentials were created already and are shown only once/,
    );
    expect(again.body).not.toContain(json.integration.technicalAccount.clientSecret);
    // Listed with its certificate's fingerprint and expiry, never the secret.
    const listed = await c.get(ENV);
    expect(listed.body).toContain(json.integration.technicalAccount.clientId);
    expect(listed.body).not.toContain(json.integration.technicalAccount.clientSecret);
    expect(listed.body).toMatch(/class="mono">[0-9a-f]{64}</);
  });

  it('adds a certificate (rotation), removes one, keeps the last', async () => {
    const c = await admin();
    const creds = await getCredentials(c);
    const other = await getCredentials(c); // its certificate is a valid RSA one to add
    const client = creds.integration.technicalAccount.clientId;
    await c.get(ENV);
    const added = await c.post(`${ENV}/integrations/${client}/certificates`, [
      ['certificate', other.integration.publicKey],
    ]);
    expect(added.statusCode).toBe(303);
    const page = await c.get(`${added.headers.location}`);
    expect(textOf(page.body, 'notice')[0]).toMatch(/^Certificate added/);
    // The same certificate again (pasted or as a file) is not called added.
    const again = await c.post(`${ENV}/integrations/${client}/certificates`, [], {
      files: [['file', 'other.pem', Buffer.from(other.integration.publicKey)]],
    });
    expect(again.headers.location).toBe(`${ENV}?done=certificateKnown`);
    expect(textOf((await c.get(String(again.headers.location))).body, 'notice')).toEqual([
      'The integration has this certificate already: nothing changed.',
    ]);
    const section = page.body.slice(page.body.indexOf(`id="int-${client}"`));
    const prints = [...section.matchAll(/name="fingerprint" value="([^"]+)"/g)].map((m) => m[1]!);
    expect(prints.length).toBeGreaterThanOrEqual(2);
    const removed = await c.post(`${ENV}/integrations/${client}/certificates/remove`, [
      ['fingerprint', prints[0]!],
    ]);
    expect(removed.statusCode).toBe(303);
    await c.get(ENV);
    const last = await c.post(`${ENV}/integrations/${client}/certificates/remove`, [
      ['fingerprint', prints[1]!],
    ]);
    expect(last.statusCode).toBe(409);
    expect(last.body).toMatch(
      /class="error" role="alert" id="cert-[^"]+-error">An integration keeps at least one certificate.</,
    );
    const garbage = await c.post(`${ENV}/integrations/${client}/certificates`, [
      ['certificate', 'not a certificate'],
    ]);
    expect(garbage.statusCode).toBe(400);
    expect(garbage.body).toContain('Certificate must be an X.509 certificate in PEM.');
  });

  it('says in plain words that a certificate file is too large', async () => {
    const c = await admin();
    await c.get(ENV);
    const res = await c.post(`${ENV}/integrations/cm-p1-e1-integration/certificates`, [], {
      files: [['file', 'huge.pem', Buffer.alloc(1_100_000, 'A')]],
    });
    expect(res.statusCode).toBe(413);
    expect(textOf(res.body, 'alert')).toEqual([
      'What you sent is larger than this server accepts (1 MB, 1048576 bytes), so nothing was changed. Choose a smaller file, or paste less.',
    ]);
  });

  it('revokes an integration after a confirmation; its credentials stop working', async () => {
    const c = await admin();
    const creds = await getCredentials(c);
    const client = creds.integration.technicalAccount.clientId;
    const confirm = await c.get(`${ENV}/integrations/${client}/revoke`);
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain('This cannot be undone');
    const revoked = await c.post(`${ENV}/integrations/${client}/revoke`, []);
    expect(revoked.statusCode).toBe(303);
    await expect(exchange(creds)).rejects.toMatchObject({ code: 'invalid_client' });
    expect((await c.get(ENV)).body).toMatch(
      new RegExp(`${client}</span> <span class="badge red">revoked`),
    );
    expect((await c.get(`${ENV}/integrations/nope/revoke`)).statusCode).toBe(404);
    // Revoked already: the confirmation says so instead of asking again.
    const confirmAgain = await c.get(`${ENV}/integrations/${client}/revoke`);
    expect(confirmAgain.statusCode).toBe(409);
    expect(textOf(confirmAgain.body, 'alert')[0]).toBe(
      `${client} was revoked already: its credentials stopped working then.`,
    );
    await c.get(ENV);
    const twice = await c.post(`${ENV}/integrations/${client}/revoke`, []);
    expect(twice.headers.location).toBe(`${ENV}?done=revokedAlready`);
  });
});

describe('Developer Console: development tokens and developers', () => {
  it('gives an administrator a token for a user, lists it and revokes it', async () => {
    const c = await admin();
    let page = await c.get(ENV);
    const res = await c.post(`${ENV}/dev-token`, [
      ['form', formIdOf(page.body)],
      ['user', 'alice'],
    ]);
    expect(res.statusCode).toBe(200);
    const { accessToken } = shownJson(res.body) as { accessToken: string };
    const claims = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString());
    expect(claims).toMatchObject({ user_id: 'alice', env: 'p1-e1' });
    page = await c.get(ENV);
    expect(page.body).toContain(`<td class="mono">${claims.jti}</td>`);
    expect(page.body).not.toContain(accessToken);
    const revoked = await c.post(`${ENV}/dev-tokens/revoke`, [['jti', claims.jti]]);
    expect(revoked.statusCode).toBe(303);
    const valid = await fetch(`${ims.url}/ims/validate_token/v1`, {
      method: 'POST',
      body: new URLSearchParams({ token: accessToken }),
    });
    expect(await valid.json()).toMatchObject({ valid: false });
    page = await c.get(ENV);
    const refused = await c.post(`${ENV}/dev-token`, [
      ['form', formIdOf(page.body)],
      ['user', 'admin'],
    ]);
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toMatch(
      /id="token-user-error">Development tokens are not issued for admin/,
    );
    // What was typed stays in the field, to be corrected.
    page = await c.get(ENV);
    const odd = await c.post(`${ENV}/dev-token`, [
      ['form', formIdOf(page.body)],
      ['user', 'al ice<'],
    ]);
    expect(odd.statusCode).toBe(400);
    expect(odd.body).toMatch(/id="token-user"[^>]*value="al ice&lt;"/);
  });

  it('says what revoking every token of a user did, and refuses what is no user id', async () => {
    const c = await admin();
    let page = await c.get(ENV);
    await c.post(`${ENV}/dev-token`, [
      ['form', formIdOf(page.body)],
      ['user', 'frank'],
    ]);
    await c.get(ENV);
    const revoked = await c.post(`${ENV}/dev-tokens/revoke`, [['user', 'frank']]);
    expect(revoked.headers.location).toBe(`${ENV}?done=userTokensRevoked`);
    expect(textOf((await c.get(String(revoked.headers.location))).body, 'notice')).toEqual([
      'Every live development token of the user was revoked.',
    ]);
    const none = await c.post(`${ENV}/dev-tokens/revoke`, [['user', 'nobody']]);
    expect(none.headers.location).toBe(`${ENV}?done=noTokensRevoked`);
    expect(textOf((await c.get(String(none.headers.location))).body, 'notice')).toEqual([
      'Nothing was revoked: the user has no live development token.',
    ]);
    const empty = await c.post(`${ENV}/dev-tokens/revoke`, [['user', ' ']]);
    expect(empty.statusCode).toBe(400);
    expect(textOf(empty.body, 'error')).toContain(
      'Enter the user whose development tokens to revoke.',
    );
    page = await c.get(ENV);
    const odd = await c.post(`${ENV}/dev-tokens/revoke`, [['user', '"><img src=x>']]);
    expect(odd.statusCode).toBe(400);
    expect(textOf(odd.body, 'error')).toContain(
      'User ids are 1-128 letters, digits and . _ @ + -.',
    );
    const list = await ims.app.inject({ url: '/ims/revocations' });
    expect(Object.keys(list.json().users)).not.toContain('"><img src=x>');
  });

  it('lets a developer sign in, see its environments, and get and revoke its own tokens only', async () => {
    const c = await admin();
    await c.get(`${ENV}/developers`);
    const short = await c.post(`${ENV}/developers`, [
      ['id', 'dave'],
      ['password', 'short'],
    ]);
    expect(short.statusCode).toBe(400);
    expect(short.body).toContain(
      'id="dev-password-error">The password must have at least 8 characters.<',
    );
    expect(short.body.match(/aria-invalid="true"/g)).toHaveLength(1);
    expect(short.body).toMatch(/id="dev-password"[^>]*aria-invalid="true"/);
    const added = await c.post(`${ENV}/developers`, [
      ['id', 'dave'],
      ['password', 'dave-password'],
    ]);
    expect(added.statusCode).toBe(303);
    expect((await c.get(`${ENV}/developers`)).body).toContain('<th scope="row">dave</th>');
    // An administrator's token for erin, which dave must not be able to revoke.
    let page = await c.get(ENV);
    const erin = await c.post(`${ENV}/dev-token`, [
      ['form', formIdOf(page.body)],
      ['user', 'erin'],
    ]);
    const erinJti = JSON.parse(
      Buffer.from(
        (shownJson(erin.body) as { accessToken: string }).accessToken.split('.')[1]!,
        'base64url',
      ).toString(),
    ).jti;

    const dave = new ConsoleClient(ims.app, 'ims-console');
    await dave.signIn(SIGN_IN, 'dave', 'dave-password');
    page = await dave.get(ENV);
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('Get Service Credentials');
    expect(page.body).not.toContain(erinJti);
    expect((await dave.get(`${ENV}/developers`)).statusCode).toBe(403);
    expect((await dave.get('/ims/console')).body).not.toContain('Developers of');
    expect(
      (await dave.post(`${ENV}/credentials`, [['form', formIdOf(page.body)]])).statusCode,
    ).toBe(403);
    const own = await dave.post(`${ENV}/dev-token`, [
      ['form', formIdOf(page.body)],
      ['user', 'erin'], // ignored: a developer's token is its own
    ]);
    expect(own.statusCode).toBe(200);
    const token = (shownJson(own.body) as { accessToken: string }).accessToken;
    expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).user_id).toBe(
      'dave',
    );
    const theirs = await dave.post(`${ENV}/dev-tokens/revoke`, [['jti', erinJti]]);
    expect(theirs.statusCode).toBe(404);
    // A new password ends dave's session.
    await c.get(`${ENV}/developers`);
    await c.post(`${ENV}/developers`, [
      ['id', 'dave'],
      ['password', 'another-password'],
    ]);
    expect((await dave.get(ENV)).statusCode).toBe(303);
  });
});
