export type HealthStatus = 'green' | 'yellow' | 'red';

export interface HealthResult {
  readonly status: HealthStatus;
  readonly message: string;
  /** What to do about it, in plain words, when the status is not green. */
  readonly fix?: string;
}

export interface HealthCheck {
  readonly name: string;
  run(): Promise<HealthResult>;
}

export interface HealthReport {
  readonly status: HealthStatus;
  readonly checks: readonly ({ name: string } & HealthResult)[];
}

const SLOW_OR_FAILED =
  'The check itself failed or did not answer: its error is in the server log; the store check says whether the store answers.';

const RANK: Readonly<Record<HealthStatus, number>> = { green: 0, yellow: 1, red: 2 };

/**
 * Runs every check (concurrently, each bounded by `timeoutMs`); the overall status is the worst
 * one. A check that throws or times out is red, with a message saying so.
 */
export async function runHealthChecks(
  checks: readonly HealthCheck[],
  timeoutMs = 5000,
): Promise<HealthReport> {
  const results = await Promise.all(
    checks.map(async (check) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<HealthResult>((resolve) => {
        timer = setTimeout(
          () =>
            resolve({
              status: 'red',
              message: `no answer within ${timeoutMs} ms`,
              fix: SLOW_OR_FAILED,
            }),
          timeoutMs,
        );
      });
      try {
        const result = await Promise.race([check.run(), timeout]);
        return { name: check.name, ...result };
      } catch (err) {
        return {
          name: check.name,
          status: 'red' as const,
          message: (err as Error).message,
          fix: SLOW_OR_FAILED,
        };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const status = results.reduce<HealthStatus>(
    (worst, r) => (RANK[r.status] > RANK[worst] ? r.status : worst),
    'green',
  );
  return { status, checks: results };
}
