/** Closes cleanly on SIGINT/SIGTERM (in-flight requests finish, the store closes), once. */
export function onShutdown(close: () => Promise<void>): void {
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    close()
      .then(() => process.exit(0))
      .catch((err) => {
        process.stderr.write(
          `latchkey: error while stopping after ${signal}: ${(err as Error).message}\n`,
        );
        process.exit(1);
      });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
