import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  freshCheckout,
  imsAdminStatus,
  PASSWORD,
  signIn,
  startAsUser,
  urlOf,
  withDefaultPorts,
} from '../helpers/quick-start.js';

const checkout = freshCheckout();
const ca = join(checkout, 'latchkey-data', 'tls', 'ca.crt');
afterAll(() => rmSync(checkout, { recursive: true, force: true }));

// Regression: `npm start` printed "admin password of the author and IMS", but only the IMS had
// it: the author's admin got another random password that was never shown. Every other test set
// LATCHKEY_ADMIN_PASSWORD, so none saw it.
describe('the README quick start, as a new user runs it', () => {
  it('npm start prints the admin password, and it works on the author and on the IMS', async () => {
    await withDefaultPorts(async () => {
      const { proc: first, args } = await startAsUser(checkout);
      let password: string | undefined;
      try {
        const out = first.stdout();
        password = PASSWORD.exec(out)?.[1];
        expect(password, out).toBeDefined();
        const author = urlOf(out, 'author');
        const ims = urlOf(out, 'ims');
        // The README's addresses, unless another program held a port and the user followed
        // the error's advice (--port, --ims-port).
        if (!args.includes('--port')) expect(author).toBe('http://127.0.0.1:4502');
        if (!args.includes('--ims-port')) expect(ims).toBe('https://127.0.0.1:4510');
        // The IMS speaks HTTPS with the local CA made under the data folder, and the banner says
        // how to trust it; the author stays plain HTTP on loopback.
        expect(ims).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        expect(author).toMatch(/^http:\/\//);
        expect(out).toContain(`trust the IMS's certificate: NODE_EXTRA_CA_CERTS=${ca}`);
        expect(statSync(join(checkout, 'latchkey-data', 'tls', 'ca.key')).mode & 0o777).toBe(0o600);

        expect(await signIn(author, 'admin', password!)).toBe('admin');
        expect(await signIn(author, 'admin', `${password}x`)).toBe('refused 403');
        // Checked against the local CA, as a client that trusts it.
        expect(await imsAdminStatus(ims, password!, ca)).toBe(200);
        expect(await imsAdminStatus(ims, `${password}x`, ca)).toBe(401);
      } finally {
        await first.stop('SIGINT');
      }
      expect(await first.exited, first.stderr()).toBe(0);

      // The next start keeps the admin: no new password, and the printed one still works.
      const { proc: second } = await startAsUser(checkout, args);
      try {
        const out = second.stdout();
        expect(out).not.toMatch(PASSWORD);
        expect(await signIn(urlOf(out, 'author'), 'admin', password!)).toBe('admin');
        expect(out).not.toContain('created a local CA');
        expect(await imsAdminStatus(urlOf(out, 'ims'), password!, ca)).toBe(200);
      } finally {
        await second.stop('SIGINT');
      }
      expect(await second.exited, second.stderr()).toBe(0);
    });
  }, 180_000);
});
