import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The Node versions the README names are those package.json's `engines` allows, and on the oldest
// of each line `npm install` warns about no package: every package it installs (runtime and
// development, nested ones too) accepts it, as npm checks (npm-install-checks: semver.satisfies
// with prereleases included).
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const semver = createRequire(import.meta.url)('semver') as {
  satisfies(version: string, range: string, options?: { includePrerelease?: boolean }): boolean;
  minVersion(range: string): { version: string } | null;
};

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  engines: { node: string };
};
const readme = readFileSync(join(REPO, 'README.md'), 'utf8');

/** Every installed package.json under `dir` (a node_modules folder), nested ones included. */
function installed(dir: string, found: { path: string; engines?: { node?: string } }[] = []) {
  if (!existsSync(dir)) return found;
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    if (name.startsWith('@')) {
      installed(path, found);
      continue;
    }
    const manifest = join(path, 'package.json');
    if (existsSync(manifest)) {
      const { engines } = JSON.parse(readFileSync(manifest, 'utf8')) as {
        engines?: { node?: string };
      };
      found.push({ path, ...(engines ? { engines } : {}) });
    }
    installed(join(path, 'node_modules'), found);
  }
  return found;
}

describe('the Node versions latchkey works on', () => {
  const range = pkg.engines.node;
  // The oldest version of each line the range allows (`^20.19.0 || ^22.13.0 || >=24`: 20.19.0,
  // 22.13.0, 24.0.0).
  const oldest = range.split('||').map((part) => semver.minVersion(part.trim())!.version);

  it('the README states what package.json engines says', () => {
    expect(oldest.length).toBeGreaterThan(0);
    const quickStart = readme.slice(
      readme.indexOf('## Quick start'),
      readme.indexOf('## Commands'),
    );
    expect(quickStart).toContain(`\`${range}\``);
    for (const version of oldest) {
      const [major, minor] = version.split('.');
      expect(quickStart).toContain(minor === '0' ? `${major} and newer` : `${major}.${minor}`);
    }
  });

  it('the Node running the tests is one of them', () => {
    expect(semver.satisfies(process.version, range, { includePrerelease: true })).toBe(true);
  });

  it.each(oldest)('npm install warns about no package on Node %s', (version) => {
    const packages = installed(join(REPO, 'node_modules'));
    expect(packages.length).toBeGreaterThan(100);
    const refusing = packages
      .filter(
        (p) =>
          p.engines?.node !== undefined &&
          !semver.satisfies(version, p.engines.node, { includePrerelease: true }),
      )
      .map((p) => `${p.path.slice(REPO.length)} (${p.engines!.node})`);
    expect(refusing).toEqual([]);
  });
});
