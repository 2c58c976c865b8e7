import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { OPTIONS } from '../../src/config/defaults.js';
import { describeConfig, loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { anyText, campaign } from './campaign.js';

// Configuration files (LATCHKEY_CONFIG, JSON) and environment values: a frozen configuration or a
// ConfigError naming the option, and never the value of a secret option in the message.

const dir = mkdtempSync(join(tmpdir(), 'lk-attack-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const names = Object.keys(OPTIONS);
const SECRET = 'Sup3r-Secret-Admin-Pw';
const value = fc.oneof(
  anyText,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(
    '0',
    '-1',
    '1e309',
    '4502',
    '65536',
    'true',
    'yes',
    'http://127.0.0.1:4510',
    'https://u:p@h/x',
    'postgres://user:pw@127.0.0.1:1/db',
    'sqlite:',
    'sqlite:./x.sqlite',
    'not a url',
    'ES512',
    'file',
    '127.0.0.1,::1,10.0.0.0/8',
    'p1-e1',
  ),
  fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
);
/** A config object: known options (flat, or nested by their dots), unknown ones, prototype names. */
const configObject = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(...names),
        fc.constantFrom('__proto__', 'constructor', 'nope', 'http'),
      ),
      value,
      fc.boolean(),
    ),
    { maxLength: 6 },
  )
  .map((entries) => {
    const out: Record<string, unknown> = {};
    for (const [name, v, nested] of entries) {
      const dot = name.indexOf('.');
      if (nested && dot > 0) {
        const head = name.slice(0, dot);
        const inner = (out[head] ?? {}) as Record<string, unknown>;
        if (typeof inner === 'object' && inner !== null) inner[name.slice(dot + 1)] = v;
        Object.defineProperty(out, head, { value: inner, enumerable: true, writable: true });
      } else Object.defineProperty(out, name, { value: v, enumerable: true, writable: true });
    }
    return out;
  })
  .chain((o) =>
    // The secret, only ever as the admin password (valid or not): no message may repeat it.
    fc
      .option(fc.constantFrom<unknown>(SECRET, `${SECRET}\u0000`, [SECRET], { p: SECRET }), {
        nil: undefined,
      })
      .map((pw) => (pw === undefined ? o : { ...o, adminPassword: pw })),
  );
const fileText = fc.oneof(
  { weight: 5, arbitrary: configObject.map((o) => JSON.stringify(o)) },
  { weight: 1, arbitrary: anyText },
  { weight: 1, arbitrary: fc.constantFrom('[]', 'null', '"x"', '{', '{"a":1,"a":2}', '\ufeff{}') },
);

let n = 0;
describe('configuration', () => {
  it('files and environment values: a frozen config or a ConfigError that hides secrets', async ({
    task,
  }) => {
    const envEntry = fc.tuple(
      fc.constantFrom(...names.map((k) => (OPTIONS as Record<string, { env: string }>)[k]!.env)),
      anyText,
    );
    const secretEnv = fc.option(fc.constant(['LATCHKEY_ADMIN_PASSWORD', SECRET] as const), {
      nil: undefined,
    });
    await campaign(
      task,
      'configuration files and environment',
      fc.tuple(fileText, fc.array(envEntry, { maxLength: 3 }), secretEnv),
      ([text, envEntries, secret]) => {
        const file = join(dir, `c${n++ % 50}.json`);
        writeFileSync(file, text);
        const env = Object.fromEntries(secret ? [...envEntries, secret] : envEntries);
        try {
          const config = loadConfig({ env, file, cwd: dir });
          if (!Object.isFrozen(config) || !Object.isFrozen(config.http)) return 'forgery';
          if (JSON.stringify(describeConfig(config)).includes(SECRET)) return 'forgery';
          return 'accepted';
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          // The admin password is secret: no message repeats it.
          return err.message.includes(SECRET) ? 'forgery' : 'refused';
        }
      },
      { sample: 300, full: 8_000 },
    );
  });
});
