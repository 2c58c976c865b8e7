import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, form, type TestInstance, testInstance } from '../helpers/instance.js';

describe('publish defaults: anonymous may read /content only', () => {
  let inst: TestInstance;
  beforeAll(async () => {
    inst = await testInstance({ role: 'publish' });
    await inst.app.inject({
      method: 'POST',
      url: '/content/page',
      ...form([['jcr:title', 'Hello']]),
      headers: { ...form([]).headers, authorization: ADMIN },
    });
    await inst.app.inject({
      method: 'POST',
      url: '/etc/private',
      ...form([['x', '1']]),
      headers: { ...form([]).headers, authorization: ADMIN },
    });
  });
  afterAll(() => inst.close());

  it('lets anonymous read /content', async () => {
    const res = await inst.app.inject({ url: '/content/page.json' });
    expect(res.statusCode).toBe(200);
    expect(res.json()['jcr:title']).toBe('Hello');
  });

  it('hides everything else from anonymous (404, not 401 or 403)', async () => {
    for (const url of ['/etc/private.json', '/home/users/a/admin.json', '/.json']) {
      expect((await inst.app.inject({ url })).statusCode, url).toBe(404);
    }
  });

  it('does not let anonymous write', async () => {
    const res = await inst.app.inject({
      method: 'POST',
      url: '/content/page',
      ...form([['x', 'y']]),
    });
    expect(res.statusCode).toBe(401);
  });
});

describe('anonymous access is configurable', () => {
  it('turns anonymous reads off on publish with security.anonymous=false', async () => {
    const inst = await testInstance({ role: 'publish', 'security.anonymous': false });
    try {
      expect((await inst.app.inject({ url: '/content.json' })).statusCode).toBe(401);
    } finally {
      await inst.close();
    }
  });
});
