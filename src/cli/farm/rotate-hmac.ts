import { KEY_ID } from '../../crypto/key-id.js';
import { LatchkeyError } from '../../errors.js';
import { type RotationProgress, rotateHmac } from '../../farm/rotate-hmac.js';
import { parseTargets } from '../../farm/targets.js';
import { farmCredentials } from '../farm-flags.js';
import { printReport } from '../report.js';

const PHASE: Record<string, string> = {
  distribute: 'phase 1/2: distributing it as verify-only (no instance signs with it yet)',
  check: 'phase 1/2: checking that every instance holds it',
  activate: 'phase 2/2: activating it for signing',
};

/**
 * `latchkey farm rotate-hmac`: progress lines as each step ends (none with `--json`, which
 * prints the outcome once). Exit 1 unless every instance signs with the new key.
 */
export async function rotateHmacCommand(opts: Record<string, unknown>): Promise<void> {
  const targets = parseTargets(opts['to'] as string[]);
  const resume = opts['activate'];
  if (resume !== undefined && (typeof resume !== 'string' || !KEY_ID.test(resume)))
    throw new LatchkeyError('invalid_request', '--activate takes a key id (16 hex digits)', 400);
  const credentials = await farmCredentials(opts);
  const json = opts['json'] !== undefined;
  const say = (line: string) => {
    if (!json) process.stdout.write(`${line}\n`);
  };
  const progress = (p: RotationProgress) => {
    if (p.step === 'key')
      say(p.resumed ? `hmac key ${p.id} (distributed before)` : `new hmac key ${p.id}`);
    else if (p.step === 'phase') say(PHASE[p.phase]!);
    else if (!p.ok) say(`  ${p.url}  failed: ${p.error}: ${p.message}`);
    else if (p.phase === 'activate')
      say(
        `  ${p.url}  signs with it${p.previous ? ` (hmac ${p.previous} keeps verifying its tokens until they expire)` : ''}`,
      );
    else say(`  ${p.url}  ${p.phase === 'check' ? 'holds it' : 'verifies with it'}`);
  };
  const result = await rotateHmac(targets, credentials, progress, resume as string | undefined);
  const again = `latchkey farm rotate-hmac --activate ${result.id} --to ${targets.join(' ')}`;
  printReport(json, result, (r) => {
    if (r.outcome === 'done')
      return `done: every instance (${targets.length}) signs with hmac ${r.id}; tokens signed with older keys keep verifying until they expire\n`;
    if (r.outcome === 'not_distributed')
      return `stopped: not every instance holds hmac ${r.id}, so none signs with it and nobody is affected. Fix the failed instance(s) and run the command again\n`;
    return `not every instance signs with hmac ${r.id} yet (every one verifies it, so nobody is logged out): fix the failed instance(s) and run\n  ${again}\n`;
  });
  if (result.outcome !== 'done') process.exitCode = 1;
}
