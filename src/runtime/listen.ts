import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/load.js';

/**
 * The base URL that reaches a server configured by `config` on `port`: `http[s]://host:port`,
 * 127.0.0.1 for 0.0.0.0, IPv6 hosts in brackets.
 */
export function baseUrlOf(config: Config, port = config.port): string {
  const host =
    config.host === '0.0.0.0'
      ? '127.0.0.1'
      : config.host.includes(':')
        ? `[${config.host}]`
        : config.host;
  return `${config.tls ? 'https' : 'http'}://${host}:${port}`;
}

/**
 * Starts listening where `config` says and returns the base URL to reach the server (see
 * {@link baseUrlOf}; the real port when 0 was asked for). With `listen: false` (in-process
 * tests) it only readies the app and returns ''.
 */
export async function listen(app: FastifyInstance, config: Config, listen = true): Promise<string> {
  if (!listen) {
    await app.ready();
    return '';
  }
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  return baseUrlOf(config, typeof address === 'object' && address ? address.port : config.port);
}
