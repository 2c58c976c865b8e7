import fc from 'fast-check';
import { expect } from 'vitest';

/**
 * The attack campaign's harness. Each suite feeds generated inputs to a real parsing or verifying
 * function and classifies what came back:
 *
 * - `refused`: the input was refused the way the project refuses bad input (a typed error with a
 *   stable code, or a `{ ok: false }` answer, or a 4xx);
 * - `accepted`: the input was accepted, and the suite says that is right (it is a genuine value);
 * - `forgery`: something was accepted that must not be (a token, value or bundle nobody holding
 *   the key produced, or one that says something else than what was signed);
 * - `crash`: a 5xx, or an exception that is not one of the project's typed errors;
 * - `hang`: one case took longer than the suite's limit (`hangMs`, far above any honest case).
 *
 * `npm test` runs a seeded sample of every suite; `npm run test:attack` runs the full campaign
 * (ATTACK_CAMPAIGN=full, set by vitest.attack.config.ts) and prints the counts per suite.
 */
export type Outcome = 'refused' | 'accepted' | 'forgery' | 'crash';

export interface Tally {
  suite: string;
  cases: number;
  accepted: number;
  refused: number;
  forgeries: number;
  crashes: number;
  hangs: number;
}

declare module 'vitest' {
  interface TaskMeta {
    attack?: Tally;
  }
}

export const FULL = process.env['ATTACK_CAMPAIGN'] === 'full';

/** The seed of every suite: a failure is replayed by running the same suite again. */
export const SEED = 20_261_123;

export interface CampaignOptions<T> {
  /** Cases in `npm test`. */
  readonly sample: number;
  /** Cases in `npm run test:attack`. */
  readonly full: number;
  /** One case over this long counts as a hang (default 2 s in process, more over HTTP). */
  readonly hangMs?: number;
  readonly seed?: number;
  /** How an input is shown when it fails (default: JSON, clipped). */
  readonly show?: (input: T) => string;
}

function describeInput(input: unknown): string {
  try {
    const text = typeof input === 'string' ? input : JSON.stringify(input);
    return text.length > 300 ? `${text.slice(0, 300)}…` : text;
  } catch {
    return String(input);
  }
}

/**
 * Runs `attempt` on `cases` generated inputs (every one, also after a bad outcome, so that the
 * counts are complete), records the tally on the test (`task.meta.attack`, printed by the attack
 * reporter) and fails the test on any forgery, crash or hang, with the first few inputs.
 */
export async function campaign<T>(
  task: { meta: { attack?: Tally } },
  suite: string,
  arbitrary: fc.Arbitrary<T>,
  attempt: (input: T) => Outcome | Promise<Outcome>,
  options: CampaignOptions<T>,
): Promise<Tally> {
  const numRuns = FULL ? options.full : options.sample;
  const hangMs = options.hangMs ?? 2_000;
  const tally: Tally = {
    suite,
    cases: 0,
    accepted: 0,
    refused: 0,
    forgeries: 0,
    crashes: 0,
    hangs: 0,
  };
  const bad: string[] = [];
  const note = (kind: string, input: T, detail = '') => {
    if (bad.length < 5)
      bad.push(`${kind}: ${(options.show ?? describeInput)(input)}${detail ? ` → ${detail}` : ''}`);
  };
  await fc.assert(
    fc.asyncProperty(arbitrary, async (input) => {
      tally.cases++;
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const hang = new Promise<'hang'>((resolve) => {
        timer = setTimeout(() => resolve('hang'), hangMs);
      });
      let outcome: Outcome | 'hang';
      try {
        outcome = await Promise.race([Promise.resolve().then(() => attempt(input)), hang]);
      } catch (err) {
        outcome = 'crash';
        note('crash', input, err instanceof Error ? `${err.name}: ${err.message}` : String(err));
      } finally {
        clearTimeout(timer);
      }
      // A synchronous function that blocked past the limit never let the timer fire.
      if (outcome !== 'hang' && performance.now() - started > hangMs) outcome = 'hang';
      switch (outcome) {
        case 'accepted':
          tally.accepted++;
          break;
        case 'refused':
          tally.refused++;
          break;
        case 'forgery':
          tally.forgeries++;
          note('forgery', input);
          break;
        case 'crash':
          tally.crashes++;
          if (bad.length === 0) note('crash', input);
          break;
        case 'hang':
          tally.hangs++;
          note('hang', input);
          break;
      }
      return true;
    }),
    { numRuns, seed: options.seed ?? SEED },
  );
  task.meta.attack = tally;
  expect(
    { forgeries: tally.forgeries, crashes: tally.crashes, hangs: tally.hangs, first: bad },
    suite,
  ).toEqual({ forgeries: 0, crashes: 0, hangs: 0, first: [] });
  return tally;
}

/** Runs `fn`; a thrown error that `typed` recognises is a refusal, any other one a crash. */
export async function refusedOrCrash(
  fn: () => unknown,
  typed: (err: unknown) => boolean,
): Promise<{ value: unknown } | { refused: unknown }> {
  try {
    return { value: await fn() };
  } catch (err) {
    if (typed(err)) return { refused: err };
    throw err;
  }
}

// ---- generators shared by the suites ----

/** A few bytes changed, inserted, removed or the text cut: the classic tampering of a token. */
export function mutate(text: string): fc.Arbitrary<string> {
  const alphabet =
    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/{}%~ \u0000é';
  const char = fc.constantFrom(...alphabet);
  const at = fc.nat({ max: Math.max(0, text.length) });
  const edit = fc.oneof(
    fc.tuple(fc.constant('set' as const), at, char),
    fc.tuple(fc.constant('insert' as const), at, char),
    fc.tuple(fc.constant('delete' as const), at, fc.constant('')),
    fc.tuple(fc.constant('cut' as const), at, fc.constant('')),
    fc.tuple(fc.constant('flip' as const), at, fc.nat({ max: 5 }).map(String)),
    fc.tuple(fc.constant('case' as const), at, fc.constant('')),
  );
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => {
    let t = text;
    for (const [kind, i, c] of edits) {
      const p = Math.min(i, t.length);
      if (kind === 'set') t = t.slice(0, p) + c + t.slice(p + 1);
      else if (kind === 'insert') t = t.slice(0, p) + c + t.slice(p);
      else if (kind === 'delete') t = t.slice(0, p) + t.slice(p + 1);
      else if (kind === 'cut') t = t.slice(0, p);
      else if (kind === 'flip' && p < t.length)
        t =
          t.slice(0, p) + String.fromCharCode(t.charCodeAt(p) ^ (1 << Number(c))) + t.slice(p + 1);
      else if (kind === 'case' && p < t.length) {
        const ch = t[p]!;
        const swapped = ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase();
        t = t.slice(0, p) + swapped + t.slice(p + 1);
      }
    }
    return t;
  });
}

export const b64u = (data: string | Uint8Array) => Buffer.from(data).toString('base64url');

/** Strings of every kind: empty, huge, unicode, control characters, JSON-ish, path-ish. */
export const anyText = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('', ' ', '\u0000', '%00', '..', '../../etc/passwd', '__proto__', 'constructor'),
  fc.nat({ max: 3 }).map((n) => 'A'.repeat(10 ** (n + 2))),
);
