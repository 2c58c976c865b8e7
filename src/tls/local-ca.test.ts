import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureLocalTls } from './local-ca.js';

const root = mkdtempSync(join(tmpdir(), 'lk-local-ca-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const DAY = 24 * 3600 * 1000;

/** Whether a client trusting only `ca` accepts the server certificate for `host`. */
async function handshake(files: { ca: string; cert: string; key: string }, host: string) {
  const server = createServer({
    cert: readFileSync(files.cert),
    key: readFileSync(files.key),
  }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  try {
    return await new Promise<string>((resolve) => {
      const socket = connect({
        host: '127.0.0.1',
        port,
        servername: host === '127.0.0.1' ? undefined : host,
        ca: readFileSync(files.ca),
        // what fetch checks: the name the client asked for
        checkServerIdentity: (_h, cert) =>
          (
            host === '127.0.0.1'
              ? new X509Certificate(cert.raw).checkIP(host)
              : new X509Certificate(cert.raw).checkHost(host)
          )
            ? undefined
            : new Error(`certificate is not for ${host}`),
      });
      socket.once('secureConnect', () => {
        resolve(socket.authorized ? 'trusted' : String(socket.authorizationError));
        socket.end();
      });
      socket.once('error', (err) => resolve((err as NodeJS.ErrnoException).code ?? err.message));
    });
  } finally {
    server.close();
  }
}

describe('the local CA of a data folder', () => {
  it('is created once, with a server certificate for 127.0.0.1 and localhost that a client trusting ca.crt accepts', async () => {
    const data = join(root, 'a');
    const first = await ensureLocalTls(data);
    expect(first).toMatchObject({ caCreated: true, issued: 'new' });
    for (const f of [first.ca, first.caKey, first.cert, first.key])
      expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(statSync(join(data, 'tls')).mode & 0o777).toBe(0o700);
    expect(await handshake(first, '127.0.0.1')).toBe('trusted');
    expect(await handshake(first, 'localhost')).toBe('trusted');
    const ca = new X509Certificate(readFileSync(first.ca));
    expect(ca.ca).toBe(true);
    const leaf = new X509Certificate(readFileSync(first.cert));
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.subjectAltName).toContain('IP Address:127.0.0.1');

    const again = await ensureLocalTls(data);
    expect(again).toMatchObject({ caCreated: false, issued: undefined });
    expect(readFileSync(again.cert, 'utf8')).toBe(readFileSync(first.cert, 'utf8'));
  });

  it('renews a server certificate near its expiry with the same CA', async () => {
    const data = join(root, 'b');
    const start = new Date();
    const first = await ensureLocalTls(data, start);
    const caBefore = readFileSync(first.ca, 'utf8');
    const certBefore = readFileSync(first.cert, 'utf8');
    // 29 days before the 397-day certificate expires: within the renewal window.
    const later = new Date(start.getTime() + 368 * DAY);
    const renewed = await ensureLocalTls(data, later);
    expect(renewed).toMatchObject({ caCreated: false, issued: 'expiring' });
    expect(readFileSync(renewed.ca, 'utf8')).toBe(caBefore);
    expect(readFileSync(renewed.cert, 'utf8')).not.toBe(certBefore);
    expect(renewed.notAfter.getTime()).toBeGreaterThan(later.getTime() + 390 * DAY);
    // Well within the window of the new one: kept.
    expect((await ensureLocalTls(data, new Date(later.getTime() + DAY))).issued).toBeUndefined();
  });

  it('replaces a server certificate that does not fit, and refuses a CA without its key', async () => {
    const data = join(root, 'c');
    const first = await ensureLocalTls(data);
    writeFileSync(first.cert, readFileSync(first.ca)); // not issued by the CA for these names
    expect((await ensureLocalTls(data)).issued).toBe('invalid');
    expect(await handshake(first, '127.0.0.1')).toBe('trusted');
    rmSync(first.caKey);
    await expect(ensureLocalTls(data)).rejects.toMatchObject({ code: 'invalid_tls' });
  });
});
