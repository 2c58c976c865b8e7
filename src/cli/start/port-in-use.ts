import { PortInUseError } from '../../errors.js';

/**
 * Awaits a server's start; a port in use becomes a {@link PortInUseError} that names the port,
 * whose it is and the flag that chooses another (as `npm start -- --port N` when run by npm).
 */
export async function explainPortInUse<T>(
  start: Promise<T>,
  server: { readonly name: string; readonly port: number; readonly flag: string },
): Promise<T> {
  try {
    return await start;
  } catch (err) {
    if ((err as NodeJS.ErrnoException | undefined)?.code !== 'EADDRINUSE') throw err;
    const how =
      process.env['npm_lifecycle_event'] === 'start'
        ? `npm start -- ${server.flag} N`
        : `${server.flag} N`;
    throw new PortInUseError(
      server.port,
      `the ${server.name}'s port ${server.port} is in use (is latchkey already running?): choose another with ${how}`,
      server.flag,
      { cause: err },
    );
  }
}
