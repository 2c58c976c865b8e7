import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth } from '../helpers/http.js';
import { type TestInstance, testInstance } from '../helpers/instance.js';

/**
 * The System Console's repository browser removed any property name it was sent, without the
 * check a Sling POST applies to `name@Delete` (a single path segment, never a protected `rep:`
 * property). Now both go through the one check: the same names are refused, 400, nothing
 * changed. Sent as a script sends it: Basic credentials of a user with write access, a form.
 */
let inst: TestInstance;
const EDITOR = basicAuth('editor', 'editor-password');

async function post(path: string, fields: [string, string][], auth: string): Promise<Response> {
  return fetch(`${inst.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
}

beforeAll(async () => {
  inst = await testInstance({ role: 'author' }, { listen: true });
  const admin = basicAuth('admin', 'admin-test-password');
  for (const [path, fields] of [
    [
      '/libs/granite/security/post/authorizables',
      [
        ['createUser', ''],
        ['authorizableId', 'editor'],
        ['rep:password', 'editor-password'],
      ],
    ],
    ['/content/site', [['title', 'Site']]],
    [
      '/content.modifyAce.json',
      [
        ['principalId', 'editor'],
        ['privilege@jcr:read', 'granted'],
        ['privilege@jcr:write', 'granted'],
      ],
    ],
  ] as [string, [string, string][]][]) {
    const res = await post(path, fields, admin);
    expect(res.status, path).toBeLessThan(400);
  }
});
afterAll(() => inst.close());

describe('System Console: removing a property', () => {
  it('refuses the names a Sling POST refuses, with the same check', async () => {
    for (const name of ['rep:password', 'rep:principalName', 'a/b', '..', 'x[1]', '']) {
      const sling = await post('/content/site', [[`${name}@Delete`, '']], EDITOR);
      const console = await post(
        '/system/console/repository?path=/content/site',
        [
          ['action', 'deleteProperty'],
          ['name', name],
        ],
        EDITOR,
      );
      expect(console.status, `console ${JSON.stringify(name)}`).toBe(400);
      expect(await console.text(), name).toMatch(/id="delete-property-error">[^<]*(rep:|name)/i);
      // The Sling POST refuses them too (the empty name is a form field it does not see).
      if (name !== '') expect(sling.status, `sling ${JSON.stringify(name)}`).toBe(400);
    }
  });

  it('still removes a property the editor may remove', async () => {
    const res = await post(
      '/system/console/repository?path=/content/site',
      [
        ['action', 'deleteProperty'],
        ['name', 'title'],
      ],
      EDITOR,
    );
    expect(res.status).toBe(303);
    const node = await fetch(`${inst.url}/content/site.json`, {
      headers: { authorization: EDITOR },
    });
    expect(((await node.json()) as Record<string, unknown>).title).toBeUndefined();
  });
});
