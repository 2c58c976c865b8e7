import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cryptoDirOf, loadKeyring } from '../../src/crypto/load-keyring.js';
import { protect } from '../../src/crypto/protect.js';
import { readStorageMode } from '../../src/crypto/storage/mode.js';
import { readRepositoryKeys } from '../../src/crypto/storage/repository.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { runCli, runNode } from '../helpers/process.js';

const root = mkdtempSync(join(tmpdir(), 'lk-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const STEPS = ['copied', 'verified', 'switched', 'removed'] as const;
/** `keys migrate` as the CLI runs it, killed by SIGKILL right after a given step. */
const CRASHING_MIGRATE = fileURLToPath(new URL('../helpers/migrate-crash.mjs', import.meta.url));

/** A data folder initialized with keys in `where`, and a value sealed with them. */
async function prepare(name: string, where: 'file' | 'repository') {
  const data = join(root, name);
  const store = new SqliteStore(join(data, 'author.sqlite'));
  try {
    const keyring = await loadKeyring(
      { cryptoDir: cryptoDirOf(data), store },
      { initialize: where },
    );
    return {
      data,
      sealed: protect(keyring, 'the IMS client secret'),
      prints: `${keyring.master.primary.fingerprint} ${keyring.hmac.primary.fingerprint}`,
    };
  } finally {
    await store.close();
  }
}

async function state(data: string) {
  const status = await runCli(['keys', 'status', '--json', '--data', data]);
  const parsed = JSON.parse(status.stdout) as {
    ok: boolean;
    storage: string;
    keys: { kind: string; primary: boolean; sha256: string }[];
  };
  const primary = (kind: string) => parsed.keys.find((k) => k.kind === kind && k.primary)?.sha256;
  return {
    ok: parsed.ok,
    storage: parsed.storage,
    prints: `${primary('master')} ${primary('hmac')}`,
  };
}

describe('keys migrate survives being killed after any step', () => {
  for (const [from, to, target] of [
    ['repository', 'file', 'Bundle'],
    ['file', 'repository', 'JCR'],
  ] as const) {
    for (const step of STEPS) {
      it(`${from} → ${to}, killed after "${step}"`, async () => {
        const { data, sealed, prints } = await prepare(`${to}-${step}`, from);
        const crashed = await runNode([CRASHING_MIGRATE, data, to, step]);
        expect(crashed.code).toBeNull(); // killed by SIGKILL, no clean-up ran
        expect(crashed.stdout).toContain(`  ${step}`);

        // Right after the crash: storage points at a complete set of the same keys.
        const after = await state(data);
        expect(after.ok).toBe(true);
        expect(after.prints).toBe(prints);
        const open = await runCli(['unprotect', sealed, '--data', data]);
        expect(open.stdout.trim()).toBe('the IMS client secret');

        // The next run completes the move.
        const rerun = await runCli(['keys', 'migrate', '--to', to, '--data', data]);
        expect(rerun.code, rerun.stderr).toBe(0);
        const done = await state(data);
        expect(done).toEqual({ ok: true, storage: target, prints });
        expect(readStorageMode(cryptoDirOf(data))).toBe(target);
        const store = new SqliteStore(join(data, 'author.sqlite'));
        try {
          const repo = await readRepositoryKeys(store);
          expect(repo.master.length > 0).toBe(target === 'JCR');
        } finally {
          await store.close();
        }
        expect(existsSync(join(cryptoDirOf(data), 'master'))).toBe(target === 'Bundle');
        expect((await runCli(['unprotect', sealed, '--data', data])).stdout.trim()).toBe(
          'the IMS client secret',
        );
      });
    }
  }
});
