import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

/**
 * The files of src/ a file loads when it runs: relative static imports, `export … from` and
 * dynamic imports. Type-only imports (`import type`, `export type`) are erased by the compiler and
 * make no cycle.
 */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = new Set<string>();
  const add = (spec: string) => found.add(resolve(dirname(file), spec).replace(/\.js$/, '.ts'));
  for (const m of text.matchAll(
    /^\s*(?:import|export)\s+(type\s+)?[^;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/gm,
  ))
    if (!m[1]) add(m[2]!);
  for (const m of text.matchAll(/^\s*import\s*['"](\.{1,2}\/[^'"]+)['"]/gm)) add(m[1]!);
  for (const m of text.matchAll(/import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) add(m[1]!);
  return [...found];
}

/** Every file of src/ reachable from `start` through imports. */
function reachable(start: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...start];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    try {
      queue.push(...importsOf(file));
    } catch {
      // not a file of src/ (a folder index, a JSON file): nothing to follow
    }
  }
  return seen;
}

const inFolder = (folder: string) => (file: string) => relative(src, file).split('/')[0] === folder;

describe('the import graph of access tokens', () => {
  it('has no auth ↔ ims cycle: the IMS never imports instance authentication', () => {
    const fromIms = reachable(filesUnder(join(src, 'ims')));
    const intoAuth = [...fromIms].filter(inFolder('auth')).map((f) => relative(src, f));
    expect(intoAuth).toEqual([]);
  });

  it('the access-token module depends on neither auth nor ims', () => {
    const fromModule = reachable(filesUnder(join(src, 'access-token')));
    const outside = [...fromModule]
      .filter((f) => inFolder('auth')(f) || inFolder('ims')(f))
      .map((f) => relative(src, f));
    expect(outside).toEqual([]);
  });

  it('IMS signing and validation and instance bearer verification use that module', () => {
    for (const file of ['ims/access-token.ts', 'ims/validate-token.ts', 'auth/bearer/handler.ts']) {
      const imported = importsOf(join(src, file)).map((f) => relative(src, f));
      expect(
        imported.some((f) => f.startsWith('access-token/')),
        file,
      ).toBe(true);
    }
    // No second verifier or signer of access tokens: jose is not on these paths.
    for (const file of filesUnder(join(src, 'access-token'))) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/from 'jose'/);
    }
  });
});
