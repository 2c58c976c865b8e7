import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Keyring } from '../../src/crypto/keyring.js';
import { cryptoDirOf, loadKeyring } from '../../src/crypto/load-keyring.js';
import { rotateSigningKey, SigningKeyRing } from '../../src/ims/signing-keys.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { runCli } from '../helpers/process.js';

let data: string;
let store: SqliteStore;
let keyring: Keyring;
beforeEach(async () => {
  data = mkdtempSync(join(tmpdir(), 'lk-sign-'));
  store = new SqliteStore(join(data, 'ims.sqlite'));
  keyring = await loadKeyring({ cryptoDir: cryptoDirOf(data), store }, { initialize: 'file' });
});
afterEach(async () => {
  await store.close();
  rmSync(data, { recursive: true, force: true });
});

const DAY = 86_400_000;

describe('signing key rotation', () => {
  it('publishes a new key before it signs, and the old one until its tokens have expired', async () => {
    let now = Date.now();
    const ring = new SigningKeyRing(store, keyring, 'ES256', DAY, () => now);
    await ring.refresh();
    const first = ring.current().kid;
    expect(first).toBe('es256-1');

    const { kid } = await rotateSigningKey(store, keyring, 'ES256', 600_000, now);
    await ring.refresh();
    expect(
      ring
        .published()
        .map((k) => k.kid)
        .sort(),
    ).toEqual([first, kid].sort());
    expect(ring.current().kid).toBe(first); // not yet: published ahead of use

    now += 600_000;
    expect(ring.current().kid).toBe(kid);
    expect(ring.published().map((k) => k.kid)).toContain(first); // tokens it signed are still valid

    now += DAY + 120_000;
    expect(ring.published().map((k) => k.kid)).toEqual([kid]);
    expect(ring.current().kid).toBe(kid);
  });

  it('is available from the command line', async () => {
    await store.close();
    const res = await runCli([
      'ims',
      'rotate-signing-key',
      '--publish-ahead-ms',
      '0',
      '--data',
      data,
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^new signing key es256-\w+: published now/);
    const bad = await runCli([
      'ims',
      'rotate-signing-key',
      '--publish-ahead-ms',
      'soon',
      '--data',
      data,
    ]);
    expect(bad.code).toBe(2);
    store = new SqliteStore(join(data, 'ims.sqlite'));
    const ring = new SigningKeyRing(store, keyring, 'ES256', DAY);
    await ring.refresh();
    expect(ring.published().length).toBe(2);
  });
});
