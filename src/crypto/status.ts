import { fingerprint, KEY_KINDS, type KeyKind } from './key-id.js';
import { aemMasterFile, type KeyLocation, readAemMaster, readStoredKeys } from './load-keyring.js';
import { readRegistry } from './registry.js';

/** What `latchkey keys status` and the System Console's Crypto tab report. */
export interface KeyStatus {
  /** `Bundle`, `JCR`, or `(no storage file: Bundle)` */
  readonly storage: string;
  readonly cryptoDir: string;
  /** Every stored version, primaries first within each kind. */
  readonly keys: readonly { kind: KeyKind; id: string; primary: boolean; sha256: string }[];
  readonly aemMaster: { readonly file: string; readonly sha256: string } | null;
  /** Keys the store depends on that are not stored. */
  readonly missing: readonly { kind: KeyKind; id: string }[];
  /** Both keys present and nothing missing. */
  readonly ok: boolean;
}

/**
 * Reads where a data folder's keys are, every stored version with its id and SHA-256, and which
 * keys the store depends on that cannot be found. Reads only; never a key's material.
 */
export async function keyStatus(loc: KeyLocation): Promise<KeyStatus> {
  const { mode, keys: stored } = await readStoredKeys(loc);
  const registry = await readRegistry(loc.store);
  const keys = KEY_KINDS.flatMap((kind) =>
    stored[kind].map((m, i) => {
      const sha = fingerprint(m);
      return { kind, id: sha.slice(0, 16), primary: i === 0, sha256: sha };
    }),
  );
  const missing = KEY_KINDS.flatMap((kind) =>
    registry[kind]
      .filter((id) => !keys.some((v) => v.kind === kind && v.id === id))
      .map((id) => ({ kind, id })),
  );
  const aem = readAemMaster(loc.cryptoDir);
  return {
    storage: mode ?? '(no storage file: Bundle)',
    cryptoDir: loc.cryptoDir,
    keys,
    aemMaster: aem ? { file: aemMasterFile(loc.cryptoDir), sha256: fingerprint(aem) } : null,
    missing,
    ok: missing.length === 0 && KEY_KINDS.every((k) => stored[k].length > 0),
  };
}
