import { connect } from 'node:net';

export interface RawResponse {
  readonly status: number;
  /** The status line and headers, as received. */
  readonly head: string;
  readonly body: string;
}

/**
 * Sends `bytes` exactly as given on a fresh connection and reads until the server closes it:
 * requests no HTTP client would send (odd Host headers, broken chunks, duplicate headers).
 * Written, not ended: a half-closed socket may lose a response that takes a moment.
 */
export function rawHttp(base: string, bytes: Buffer | string): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.setTimeout(15_000, () => socket.destroy(new Error('no answer in 15 s')));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const at = text.indexOf('\r\n\r\n');
      const head = at === -1 ? text : text.slice(0, at);
      resolve({
        status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0),
        head,
        body: at === -1 ? '' : text.slice(at + 4),
      });
    });
  });
}
