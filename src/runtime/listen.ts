import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/load.js';

/**
 * Starts listening where `config` says and returns the base URL to reach the server
 * (`http[s]://host:port`, the real port when 0 was asked for, 127.0.0.1 for 0.0.0.0, IPv6 hosts
 * in brackets). With `listen: false` (in-process tests) it only readies the app and returns ''.
 */
export async function listen(app: FastifyInstance, config: Config, listen = true): Promise<string> {
  if (!listen) {
    await app.ready();
    return '';
  }
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host =
    config.host === '0.0.0.0'
      ? '127.0.0.1'
      : config.host.includes(':')
        ? `[${config.host}]`
        : config.host;
  return `${config.tls ? 'https' : 'http'}://${host}:${port}`;
}
