import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { inspectAem } from '../../src/crypto/aem-legacy/inspect.js';
import { aemMigrateKeys } from '../../src/crypto/aem-legacy/migrate-keys.js';
import { CryptoError } from '../../src/crypto/errors.js';
import { campaign } from './campaign.js';

// crx-quickstart trees, as `latchkey aem inspect` and `aem migrate-keys` meet them: missing or
// misplaced folders, garbled bundle.info files, storage files of every content, key files that
// are folders, devices (/dev/zero), FIFOs (a read would block for ever) or huge. Inspect answers
// or says not_an_aem_install; migrate copies exactly the given keys or refuses with a CryptoError.

let root: string;
let fifo: string;
let big: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lk-attack-crx-'));
  fifo = join(root, 'fifo');
  execFileSync('mkfifo', [fifo]);
  big = join(root, 'big');
  writeFileSync(big, Buffer.alloc(1 << 20, 1));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Content =
  | { kind: 'absent' | 'dir' | 'devzero' | 'fifo' | 'big' }
  | { kind: 'file'; data: Buffer };
const content = (file: fc.Arbitrary<Buffer>): fc.Arbitrary<Content> =>
  fc.oneof(
    { weight: 6, arbitrary: file.map((data) => ({ kind: 'file' as const, data })) },
    {
      weight: 3,
      arbitrary: fc.constantFrom<Content>(
        { kind: 'absent' },
        { kind: 'dir' },
        { kind: 'devzero' },
        { kind: 'fifo' },
        { kind: 'big' },
      ),
    },
  );
const text = (choices: string[]) =>
  fc
    .oneof(
      fc.constantFrom(...choices),
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
    )
    .map((t) => Buffer.from(t));

const LOCATIONS = [
  'slinginstall:com.adobe.granite.crypto-1.0.12.jar',
  'slinginstall:com.adobe.granite.crypto.file-1.0.6.jar',
  'launchpad:resources/install/0/com.adobe.granite.crypto.file.jar',
  'file:/x/com.adobe.granite.crypto',
  '',
];
const bundleInfo = fc
  .tuple(
    fc.oneof(fc.nat({ max: 300 }).map(String), fc.constantFrom('-1', '1e3', 'x', '')),
    fc.constantFrom(...LOCATIONS),
    fc.string({ maxLength: 20 }),
  )
  .map(([id, loc, rest]) => Buffer.from(`# comment\n${id}\n${loc}\n${rest}`));
const bundle = fc.record({
  entry: fc.oneof(
    fc.nat({ max: 300 }).map((n) => `bundle${n}`),
    fc.constantFrom('bundle', 'bundleX', 'other'),
  ),
  info: content(fc.oneof(bundleInfo, text(['']))),
  storage: content(text(['Bundle', 'Bundle\n', 'JCR', ' Bundle ', 'JCR\r\n', '\ufeffBundle'])),
  master: content(fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b))),
  hmac: content(fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b))),
});
const tree = fc.record({
  felix: fc.constantFrom('dir', 'dir', 'dir', 'absent', 'file'),
  bundles: fc.oneof(
    fc.array(bundle, { maxLength: 4 }),
    // Both crypto bundles where they belong, then whatever else.
    fc.tuple(bundle, bundle, fc.array(bundle, { maxLength: 2 })).map(([a, b, rest]) => [
      {
        ...a,
        entry: 'bundle10',
        info: { kind: 'file' as const, data: Buffer.from(`10\n${LOCATIONS[0]}\n`) },
      },
      {
        ...b,
        entry: 'bundle11',
        info: { kind: 'file' as const, data: Buffer.from(`11\n${LOCATIONS[1]}\n`) },
      },
      ...rest,
    ]),
  ),
  sourceMaster: content(fc.constantFrom(randomBytes(16), randomBytes(32), Buffer.alloc(0))),
  sourceHmac: content(fc.constantFrom(randomBytes(32), Buffer.alloc(0))),
});

let n = 0;
function place(path: string, c: Content): void {
  switch (c.kind) {
    case 'absent':
      return;
    case 'dir':
      mkdirSync(path, { recursive: true });
      return;
    case 'devzero':
      symlinkSync('/dev/zero', path);
      return;
    case 'fifo':
      symlinkSync(fifo, path);
      return;
    case 'big':
      symlinkSync(big, path);
      return;
    case 'file':
      writeFileSync(path, c.data);
  }
}

function build(t: typeof tree extends fc.Arbitrary<infer T> ? T : never): string {
  const crx = join(root, `t${n++}`, 'crx-quickstart');
  const felix = join(crx, 'launchpad', 'felix');
  mkdirSync(join(crx, 'launchpad'), { recursive: true });
  if (t.felix === 'file') writeFileSync(felix, 'x');
  if (t.felix !== 'dir') return crx;
  mkdirSync(felix);
  for (const b of t.bundles) {
    const dir = join(felix, b.entry);
    // The same folder twice: the first one stands (writing through its FIFO link would block).
    if (existsSync(dir)) continue;
    mkdirSync(join(dir, 'data'), { recursive: true });
    place(join(dir, 'bundle.info'), b.info);
    place(join(dir, 'data', 'storage'), b.storage);
    place(join(dir, 'data', 'master'), b.master);
    place(join(dir, 'data', 'hmac'), b.hmac);
  }
  place(join(crx, '..', 'master.src'), t.sourceMaster);
  place(join(crx, '..', 'hmac.src'), t.sourceHmac);
  return crx;
}

describe('crx-quickstart trees', () => {
  it('aem inspect and aem migrate-keys: an answer or a CryptoError, never a block', async ({
    task,
  }) => {
    await campaign(
      task,
      'crx-quickstart trees',
      tree,
      (t) => {
        const crx = build(t);
        try {
          try {
            inspectAem(crx);
          } catch (err) {
            if (!(err instanceof CryptoError)) throw err;
          }
          const sources = {
            master: join(crx, '..', 'master.src'),
            hmac: join(crx, '..', 'hmac.src'),
          };
          const report = aemMigrateKeys(crx, sources);
          // What was copied is exactly what was given.
          for (const c of report.copied) {
            const given = readFileSync(sources[c.name as 'master' | 'hmac']);
            if (!readFileSync(c.to).equals(given)) return 'forgery';
          }
          return 'accepted';
        } catch (err) {
          if (err instanceof CryptoError) return 'refused';
          throw err;
        } finally {
          rmSync(join(crx, '..'), { recursive: true, force: true });
        }
      },
      { sample: 60, full: 600, hangMs: 5_000 },
    );
  });
});
