import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { http } from '../helpers/http.js';
import { basic } from '../helpers/instance.js';
import { freshCheckout, runInCheckout, withDefaultPorts } from '../helpers/quick-start.js';

const checkout = freshCheckout();
afterAll(() => rmSync(checkout, { recursive: true, force: true }));

/** Signs in on the author's login form as a browser does; the user it is signed in as. */
async function signIn(author: string, user: string, password: string): Promise<string> {
  const body = new URLSearchParams({ j_username: user, j_password: password }).toString();
  const res = await http(`${author}/j_security_check`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  if (res.status !== 200) return `refused ${res.status}`;
  const cookie = String(res.headers['set-cookie']).split(';')[0]!;
  const me = await http(`${author}/libs/granite/security/currentuser.json`, {
    headers: { cookie },
  });
  return (me.json() as { authorizableId: string }).authorizableId;
}

/** Status of an IMS administrator request (listing development tokens). */
async function imsAdminStatus(ims: string, password: string): Promise<number> {
  return (
    await http(`${ims}/ims/admin/dev-tokens`, {
      headers: { authorization: basic('admin', password) },
    })
  ).status;
}

// Regression: `npm start` printed "admin password of the author and IMS", but only the IMS had
// it: the author's admin got another random password that was never shown. Every other test set
// LATCHKEY_ADMIN_PASSWORD, so none saw it.
describe('the README quick start, as a new user runs it', () => {
  it('npm start prints the admin password, and it works on the author and on the IMS', async () => {
    await withDefaultPorts(async () => {
      const first = runInCheckout(checkout, ['start']);
      try {
        await first.waitFor(/latchkey author listening on \S+\n/);
        const out = first.stdout();
        const password = /admin password[^:\n]*: (\S+)/.exec(out)?.[1];
        expect(password, out).toBeDefined();
        const author = /latchkey author listening on (\S+)/.exec(out)![1]!;
        const ims = /latchkey ims listening on (\S+)/.exec(out)![1]!;
        expect(author).toBe('http://127.0.0.1:4502');
        expect(ims).toBe('http://127.0.0.1:4510');

        expect(await signIn(author, 'admin', password!)).toBe('admin');
        expect(await signIn(author, 'admin', `${password}x`)).toBe('refused 403');
        expect(await imsAdminStatus(ims, password!)).toBe(200);
        expect(await imsAdminStatus(ims, `${password}x`)).toBe(401);
      } finally {
        expect(await first.stop('SIGINT')).toBe(0);
      }

      // The next start keeps the admin: no new password, and the printed one still works.
      const second = runInCheckout(checkout, ['start']);
      try {
        await second.waitFor(/latchkey author listening on \S+\n/);
        expect(second.stdout()).not.toMatch(/admin password[^:\n]*: /);
        const password = /admin password[^:\n]*: (\S+)/.exec(first.stdout())![1]!;
        expect(await signIn('http://127.0.0.1:4502', 'admin', password)).toBe('admin');
        expect(await imsAdminStatus('http://127.0.0.1:4510', password)).toBe(200);
      } finally {
        expect(await second.stop('SIGINT')).toBe(0);
      }
    });
  });
});
