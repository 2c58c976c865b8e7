import { describe, expect, it } from 'vitest';
import { ADMIN, form, testInstance } from '../helpers/instance.js';

const PID = 'com.day.crx.security.token.impl.impl.TokenAuthenticationHandler';
const tokenOf = (setCookie: unknown) => /^login-token=([^;]*)/.exec(String(setCookie))?.[1] ?? '';

async function withInstance(
  flags: Record<string, unknown>,
  fn: (inst: Awaited<ReturnType<typeof testInstance>>) => Promise<void>,
) {
  const inst = await testInstance({ role: 'author', ...flags });
  try {
    await inst.app.inject({
      method: 'POST',
      url: '/libs/granite/security/post/authorizables',
      ...form([
        ['createUser', ''],
        ['authorizableId', 'carol'],
        ['rep:password', 'carol-pw'],
      ]),
      headers: { ...form([]).headers, authorization: ADMIN },
    });
    await fn(inst);
  } finally {
    await inst.close();
  }
}

const login = (
  inst: Awaited<ReturnType<typeof testInstance>>,
  user: string,
  password: string,
  ip = '127.0.0.1',
) =>
  inst.app.inject({
    method: 'POST',
    url: '/j_security_check',
    remoteAddress: ip,
    ...form([
      ['j_username', user],
      ['j_password', password],
    ]),
  });

describe('token options', () => {
  it('binds stateful tokens to the client address when configured', async () => {
    await withInstance({ 'tokens.bindAddress': true }, async (inst) => {
      const token = tokenOf(
        (await login(inst, 'carol', 'carol-pw', '10.1.1.1')).headers['set-cookie'],
      );
      const from = (ip: string) =>
        inst.app.inject({
          url: '/home/users/c/carol.json',
          remoteAddress: ip,
          headers: { cookie: `login-token=${token}` },
        });
      expect((await from('10.1.1.1')).statusCode).toBe(200);
      const other = await from('10.9.9.9');
      expect(other.statusCode).toBe(401);
      expect(other.json().error_description).toContain('bound to another client address');
    });
  });

  it('marks the cookie Secure when configured', async () => {
    await withInstance({ 'tokens.secureCookie': true }, async (inst) => {
      expect(String((await login(inst, 'carol', 'carol-pw')).headers['set-cookie'])).toMatch(
        /; Secure$/,
      );
    });
  });

  it('refuses an encapsulated token of a user disabled since', async () => {
    await withInstance({}, async (inst) => {
      await inst.app.inject({
        method: 'POST',
        url: `/system/console/configMgr/${PID}`,
        ...form([
          ['apply', 'true'],
          ['propertylist', 'token.encapsulated'],
          ['token.encapsulated', 'true'],
        ]),
        headers: { ...form([]).headers, authorization: ADMIN },
      });
      const token = tokenOf((await login(inst, 'carol', 'carol-pw')).headers['set-cookie']);
      const ask = () =>
        inst.app.inject({
          url: '/home/users/c/carol.json',
          headers: { cookie: `login-token=${token}` },
        });
      expect((await ask()).statusCode).toBe(200);
      await inst.app.inject({
        method: 'POST',
        url: '/home/users/c/carol',
        ...form([['disableUser', 'gone on leave']]),
        headers: { ...form([]).headers, authorization: ADMIN },
      });
      const refused = await ask();
      expect(refused.statusCode).toBe(401);
      expect(refused.json().error_description).toContain('user carol is disabled on this instance');
    });
  });

  it('throttles per client address across user names', async () => {
    await withInstance(
      { 'throttle.maxFailuresPerAddress': 3, 'throttle.maxFailuresPerUser': 100 },
      async (inst) => {
        for (const user of ['a1', 'a2', 'a3'])
          expect((await login(inst, user, 'x', '10.2.2.2')).statusCode).toBe(403);
        const blocked = await login(inst, 'carol', 'carol-pw', '10.2.2.2');
        expect(blocked.statusCode).toBe(429);
        expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
        expect((await login(inst, 'carol', 'carol-pw', '10.3.3.3')).statusCode).toBe(200);
      },
    );
  });
});
