import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CryptoError } from '../../src/crypto/errors.js';
import { fingerprint } from '../../src/crypto/key-id.js';
import { loadKeyring } from '../../src/crypto/load-keyring.js';
import { migrateKeys } from '../../src/crypto/migrate.js';
import { protect } from '../../src/crypto/protect.js';
import { readRegistry } from '../../src/crypto/registry.js';
import { rewrap } from '../../src/crypto/rewrap.js';
import { rotateKey } from '../../src/crypto/rotate.js';
import { readStorageMode } from '../../src/crypto/storage/mode.js';
import { readRepositoryKeys } from '../../src/crypto/storage/repository.js';
import { unprotect } from '../../src/crypto/unprotect.js';
import { stringProperty, toStored } from '../../src/repository/properties.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { keyLocation } from '../helpers/keys.js';

let loc: ReturnType<typeof keyLocation>;
beforeEach(() => {
  loc = keyLocation();
});
afterEach(() => loc.close());

async function failure(p: Promise<unknown>): Promise<CryptoError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CryptoError);
    return err as CryptoError;
  }
  throw new Error('expected a CryptoError');
}

describe('initialization', () => {
  it('generates keys only for an empty data folder and store, as 0600 files with storage Bundle', async () => {
    const keyring = await loadKeyring(loc, { initialize: 'file' });
    const master = join(loc.cryptoDir, 'master');
    expect(statSync(master).mode & 0o777).toBe(0o600);
    expect(statSync(loc.cryptoDir).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(loc.cryptoDir, 'storage'), 'utf8')).toBe('Bundle');
    expect(fingerprint(readFileSync(master))).toBe(keyring.master.primary.fingerprint);
    expect(keyring.master.primary.id).toBe(keyring.master.primary.fingerprint.slice(0, 16));
    const again = await loadKeyring(loc, { initialize: 'file' });
    expect(again.master.primary.id).toBe(keyring.master.primary.id);
    expect(await readRegistry(loc.store)).toEqual({
      master: [keyring.master.primary.id],
      hmac: [keyring.hmac.primary.id],
    });
  });

  it('can start in repository (legacy) storage: /etc/key and storage JCR', async () => {
    const keyring = await loadKeyring(loc, { initialize: 'repository' });
    expect(readFileSync(join(loc.cryptoDir, 'storage'), 'utf8')).toBe('JCR');
    expect(existsSync(join(loc.cryptoDir, 'master'))).toBe(false);
    const repo = await readRepositoryKeys(loc.store);
    expect(fingerprint(repo.master[0]!)).toBe(keyring.master.primary.fingerprint);
  });

  it('never generates a new key when the key files are gone: it names the key, the place and the fix', async () => {
    const keyring = await loadKeyring(loc, { initialize: 'file' });
    rmSync(join(loc.cryptoDir, 'master'));
    rmSync(join(loc.cryptoDir, 'hmac'));
    const err = await failure(loadKeyring(loc, { initialize: 'file' }));
    expect(err.code).toBe('keys_missing');
    expect(err.message).toContain(keyring.master.primary.id);
    expect(err.message).toContain(join(loc.cryptoDir, 'master'));
    expect(err.message).toContain('latchkey keys import');
    expect(existsSync(join(loc.cryptoDir, 'master'))).toBe(false); // nothing changed
  });

  it('refuses a different key put in place of the one the store depends on', async () => {
    const keyring = await loadKeyring(loc, { initialize: 'file' });
    writeFileSync(join(loc.cryptoDir, 'master'), Buffer.alloc(32, 1));
    const err = await failure(loadKeyring(loc, { initialize: 'file' }));
    expect(err.message).toContain(`master key ${keyring.master.primary.id} is missing`);
  });

  it('points at the repository when storage says Bundle but the keys are in /etc/key (the seeds failure)', async () => {
    await loadKeyring(loc, { initialize: 'repository' });
    writeFileSync(join(loc.cryptoDir, 'storage'), 'Bundle');
    const err = await failure(loadKeyring(loc, { initialize: 'file' }));
    expect(err.message).toContain(
      'It is in the repository (/etc/key): run latchkey keys migrate --to file',
    );
  });

  it('reads the storage file tolerantly and refuses anything else', async () => {
    await loadKeyring(loc, { initialize: 'file' });
    for (const text of ['Bundle\n', '  Bundle \r\n', '\tBundle']) {
      writeFileSync(join(loc.cryptoDir, 'storage'), text);
      expect(readStorageMode(loc.cryptoDir)).toBe('Bundle');
    }
    writeFileSync(join(loc.cryptoDir, 'storage'), 'bundle');
    expect(() => readStorageMode(loc.cryptoDir)).toThrow(
      /must contain Bundle or JCR, found "bundle"/,
    );
  });

  it('refuses key files of the wrong length', async () => {
    await loadKeyring(loc, { initialize: 'file' });
    writeFileSync(join(loc.cryptoDir, 'master'), Buffer.alloc(16));
    const err = await failure(loadKeyring(loc));
    expect(err.code).toBe('invalid_key');
    expect(err.message).toContain(
      'that is an AEM master key; import it with latchkey keys import-aem',
    );
  });
});

describe('migration', () => {
  it('moves repository keys to files and back, verified, removing the source only after', async () => {
    const before = await loadKeyring(loc, { initialize: 'repository' });
    const sealed = protect(before, 'client secret');
    const report = await migrateKeys(loc, 'file');
    expect(report).toMatchObject({ from: 'JCR', to: 'Bundle', changed: true });
    expect(readFileSync(join(loc.cryptoDir, 'storage'), 'utf8')).toBe('Bundle');
    expect((await readRepositoryKeys(loc.store)).master).toEqual([]);
    expect(fingerprint(readFileSync(join(loc.cryptoDir, 'master')))).toBe(
      before.master.primary.fingerprint,
    );
    expect(unprotect(await loadKeyring(loc), sealed)).toBe('client secret');

    expect((await migrateKeys(loc, 'file')).changed).toBe(false); // idempotent

    await migrateKeys(loc, 'repository');
    expect(readStorageMode(loc.cryptoDir)).toBe('JCR');
    expect(existsSync(join(loc.cryptoDir, 'master'))).toBe(false);
    expect(unprotect(await loadKeyring(loc), sealed)).toBe('client secret');
  });

  it('completes when storage already points at the target but the source still holds keys', async () => {
    const before = await loadKeyring(loc, { initialize: 'repository' });
    await migrateKeys(loc, 'file', (step) => {
      if (step === 'switched') throw new Error('simulated crash');
    }).catch(() => {});
    expect(readStorageMode(loc.cryptoDir)).toBe('Bundle');
    expect((await readRepositoryKeys(loc.store)).master.length).toBe(1);
    await migrateKeys(loc, 'file');
    expect((await readRepositoryKeys(loc.store)).master).toEqual([]);
    expect((await loadKeyring(loc)).master.primary.id).toBe(before.master.primary.id);
  });

  it('keeps the key files of latchkey start (author and IMS in one folder) out of one repository', async () => {
    // latchkey start: the author's and the IMS's stores in one data folder, one set of key files.
    const ims = { cryptoDir: loc.cryptoDir, store: new SqliteStore(join(loc.data, 'ims.sqlite')) };
    try {
      await loadKeyring(loc, { initialize: 'file' });
      const imsKeys = await loadKeyring(ims, { initialize: 'file' });
      const err = await failure(migrateKeys(loc, 'repository'));
      expect(err.code).toBe('shared_keys');
      expect(err.status).toBe(409);
      expect(err.message).toContain(
        'an author store (author.sqlite) and an IMS store (ims.sqlite)',
      );
      // Nothing moved: both still start.
      expect(readStorageMode(loc.cryptoDir)).toBe('Bundle');
      expect((await readRepositoryKeys(loc.store)).master).toEqual([]);
      expect((await loadKeyring(ims, { initialize: 'file' })).master.primary.id).toBe(
        imsKeys.master.primary.id,
      );
    } finally {
      await ims.store.close();
    }
  });

  it('a start that finds its keys gone changes nothing, not even the storage file', async () => {
    await loadKeyring(loc, { initialize: 'file' });
    // The keys went into another store's /etc/key (storage JCR): this store's repository has none.
    rmSync(join(loc.cryptoDir, 'master'));
    rmSync(join(loc.cryptoDir, 'hmac'));
    writeFileSync(join(loc.cryptoDir, 'storage'), 'JCR');
    const err = await failure(loadKeyring(loc, { initialize: 'file' }));
    expect(err.code).toBe('keys_missing');
    expect(readFileSync(join(loc.cryptoDir, 'storage'), 'utf8')).toBe('JCR');
    expect(existsSync(join(loc.cryptoDir, 'master'))).toBe(false);
  });

  it('refuses to migrate an incomplete set of keys', async () => {
    await loadKeyring(loc, { initialize: 'file' });
    rmSync(join(loc.cryptoDir, 'hmac'));
    expect((await failure(migrateKeys(loc, 'repository'))).message).toMatch(
      /cannot migrate: hmac key/,
    );
  });
});

describe('rotation and rewrap', () => {
  it('keeps old values opening after rotation, and rewrap moves them to the new key', async () => {
    const first = await loadKeyring(loc, { initialize: 'file' });
    const sealed = protect(first, 'v1');
    await loc.store.putNode({ path: '/', primaryType: 'rep:root', properties: {} });
    await loc.store.putNode({
      path: '/conf',
      primaryType: 'nt:unstructured',
      properties: {
        secret: toStored(stringProperty(sealed)),
        many: toStored(stringProperty([sealed, 'plain'])),
        other: toStored(stringProperty('not sealed')),
      },
    });
    const { previous, current } = await rotateKey(loc, 'master');
    expect(previous).toBe(first.master.primary.id);
    const second = await loadKeyring(loc);
    expect(second.master.primary.id).toBe(current);
    expect(unprotect(second, sealed)).toBe('v1');

    const report = await rewrap(loc);
    expect(report).toEqual({ rewrapped: 2, current: 0, failed: [] });
    const node = await loc.store.getNode('/conf');
    if (!node) throw new Error('node /conf vanished');
    const secret = (node.properties['secret'] as { values: string[] }).values[0]!;
    expect(secret.startsWith(`{lk1.${current}.`)).toBe(true);
    expect(unprotect(second, secret)).toBe('v1');
    expect((node.properties['many'] as { values: string[] }).values[1]).toBe('plain');
    expect((await readRegistry(loc.store)).master).toEqual([current]);
    expect((await rewrap(loc)).current).toBe(2);
  });

  it('keeps hmac versions after rotation for verifying older signatures', async () => {
    const first = await loadKeyring(loc, { initialize: 'file' });
    await rotateKey(loc, 'hmac');
    const after = await loadKeyring(loc);
    expect(after.hmac.byId.has(first.hmac.primary.id)).toBe(true);
    expect(after.hmac.primary.id).not.toBe(first.hmac.primary.id);
  });
});

describe('a cluster keeping its keys in the shared store', () => {
  it('lets a fresh data folder join with the keys another one created (regression: ENOENT on storage)', async () => {
    const first = await loadKeyring(loc, { initialize: 'repository' });
    const other = { cryptoDir: join(loc.data, 'second-instance', 'crypto'), store: loc.store };
    const joined = await loadKeyring(other, { initialize: 'repository' });
    expect(joined.master.primary.id).toBe(first.master.primary.id);
    expect(readStorageMode(other.cryptoDir)).toBe('JCR');
  });
});
