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

/** Exit status of a start that a signal interrupted (128 + SIGINT's number, as shells report). */
export const INTERRUPTED_EXIT = 130;

/**
 * Signal handling of a server command from its first line on. Without it, Ctrl-C during a start
 * would kill the process wherever it is: between creating the admin and printing its password,
 * for one. With it:
 * - a first SIGINT or SIGTERM while starting is remembered: the start stops at its next
 *   {@link StartGuard.stopRequested} check (before it creates anything that needs showing) or,
 *   past that point, completes and then stops cleanly;
 * - a second one ends the process at once, except inside {@link StartGuard.critical} (creating
 *   the admin and printing its password), which completes first;
 * - once the servers run ({@link StartGuard.running}), a signal closes them, as
 *   {@link onShutdown}.
 */
export interface StartGuard {
  /** Whether a signal asked the start to stop. */
  readonly stopRequested: boolean;
  /**
   * The point of no return (the servers listen, no admin is created yet): when a signal asked to
   * stop, closes what started and ends the process (exit 130); otherwise returns.
   */
  checkpoint(close: () => Promise<void>): Promise<void>;
  /** Runs `fn`, which no signal interrupts. */
  critical<T>(fn: () => Promise<T>): Promise<T>;
  /** The servers run: a signal (one received during the start: at once) closes them. */
  running(close: () => Promise<void>): void;
  /** The start failed or stopped: signals have their default effect again. */
  release(): void;
}

export function guardStart(): StartGuard {
  let requested: NodeJS.Signals | undefined;
  let inCritical = false;
  let exitAfterCritical = false;
  let close: (() => Promise<void>) | undefined;
  let closing = false;

  const stop = (signal: NodeJS.Signals, shut: () => Promise<void>) => {
    if (closing) return;
    closing = true;
    shut()
      .then(() => process.exit(0))
      .catch((err) => {
        process.stderr.write(
          `latchkey: error while stopping after ${signal}: ${(err as Error).message}\n`,
        );
        process.exit(1);
      });
  };
  const handler = (signal: NodeJS.Signals) => {
    if (close) return stop(signal, close);
    if (requested === undefined) {
      requested = signal;
      process.stderr.write(`latchkey: ${signal}: stopping once the start reaches a safe point\n`);
      return;
    }
    if (inCritical) {
      exitAfterCritical = true;
      return;
    }
    process.stderr.write(`latchkey: ${signal} again: stopped during the start\n`);
    process.exit(INTERRUPTED_EXIT);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);

  return {
    get stopRequested() {
      return requested !== undefined;
    },
    async checkpoint(shut) {
      if (requested === undefined) return;
      await shut();
      process.stderr.write(
        'latchkey: stopped before creating the admin; the next start creates it and prints its password\n',
      );
      process.exit(INTERRUPTED_EXIT);
    },
    async critical(fn) {
      inCritical = true;
      try {
        return await fn();
      } finally {
        inCritical = false;
        if (exitAfterCritical) {
          process.stderr.write('latchkey: stopped during the start\n');
          process.exit(INTERRUPTED_EXIT);
        }
      }
    },
    running(shut) {
      close = shut;
      if (requested !== undefined) stop(requested, shut);
    },
    release() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
