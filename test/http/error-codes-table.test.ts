import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { toResponse } from '../../src/http/errors.js';

// The README's error-code tables (the "Error codes" section) name every code a client or a
// script can meet: each `code` of src/errors.ts, each code the one HTTP error mapper answers
// (Fastify's own errors mapped, the fallbacks), and each code the sources raise an error with.
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
const CODE = "'([a-z][a-z0-9]*(?:_[a-z0-9]+)*)'";

/** The codes in the tables of the README's Error codes section. */
function documented(): Set<string> {
  const start = readme.indexOf('\n### Error codes\n');
  expect(start).toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start);
  const rows = readme
    .slice(start, end)
    .split('\n')
    .filter((l) => l.startsWith('|'));
  // Each table's second column holds the codes (`error` or code); its header is not one.
  const codeCells = rows.map((r) => r.split(/(?<!\\)\|/)[2] ?? '');
  const codes = codeCells.flatMap((c) => [...c.matchAll(/`([a-z][a-z0-9_]*)`/g)].map((m) => m[1]!));
  return new Set(codes.filter((c) => c !== 'error'));
}

function sources(dir = join(REPO, 'src'), found: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, found);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

/**
 * The error classes whose code reaches a client or a script: LatchkeyError and what extends it
 * (the one HTTP error mapper answers their code; the CLI fails with it), and the client
 * library's ExchangeError (latchkey credentials exchange fails with its code).
 */
function codeCarriers(): Set<string> {
  const parents = new Map<string, string>();
  for (const file of sources())
    for (const m of readFileSync(file, 'utf8').matchAll(/class (\w+) extends (\w+)/g))
      parents.set(m[1]!, m[2]!);
  const carriers = new Set(['LatchkeyError', 'ExchangeError']);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [child, parent] of parents)
      if (carriers.has(parent) && !carriers.has(child)) {
        carriers.add(child);
        grew = true;
      }
  }
  // Carries another error's code: its first argument names the filter field, not a code.
  carriers.delete('AuditFilterError');
  return carriers;
}

/** Codes an error is raised with anywhere in src, with the file that raises it. */
function raised(): Map<string, string> {
  const carriers = [...codeCarriers()].join('|');
  const patterns = [
    // super('code', …) in a carrier's constructor, new ImsError('code', …), new CryptoError(…)
    new RegExp(`super\\(\\s*${CODE}`, 'g'),
    new RegExp(`new (?:${carriers})\\(\\s*${CODE}`, 'g'),
    // new InvalidRequestError(message, 'code')
    new RegExp(`new InvalidRequestError\\((?:[^;()]|\\([^()]*\\))*?,\\s*${CODE}\\s*,?\\s*\\)`, 'g'),
    // readonly code = 'code'
    new RegExp(`code = ${CODE}`, 'g'),
  ];
  // Bodies the HTTP layer sends itself: { error: 'code', … }
  const sent = new RegExp(`error: ${CODE}`, 'g');
  const found = new Map<string, string>();
  for (const file of sources()) {
    const text = readFileSync(file, 'utf8');
    const mine = file.includes('/src/http/') ? [...patterns, sent] : patterns;
    for (const pattern of mine)
      for (const m of text.matchAll(pattern)) if (!found.has(m[1]!)) found.set(m[1]!, file);
  }
  return found;
}

describe("the README's error-code tables", () => {
  const table = documented();

  it('name every code of src/errors.ts', () => {
    const text = readFileSync(join(REPO, 'src/errors.ts'), 'utf8');
    // Every quoted code: super('forbidden', …), code = 'invalid_config', 'no_store' | 'wrong_role'.
    const codes = [...text.matchAll(new RegExp(CODE, 'g'))].map((m) => m[1]!);
    expect(codes).toEqual(expect.arrayContaining(['store_unavailable', 'no_store', 'port_in_use']));
    expect(codes.filter((c) => !table.has(c))).toEqual([]);
  });

  it('name every code the HTTP error mapper answers', () => {
    // Fastify's errors, by their code and status, and what the mapper falls back to.
    const text = readFileSync(join(REPO, 'src/http/errors.ts'), 'utf8');
    const fastifyCodes = [...text.matchAll(/\b(FST_[A-Z_]+):/g)].map((m) => m[1]!);
    expect(fastifyCodes.length).toBeGreaterThan(5);
    const answers = new Set<string>();
    for (const code of fastifyCodes)
      answers.add(toResponse(Object.assign(new Error('x'), { code, statusCode: 400 })).body.error);
    for (const statusCode of [400, 404, 413, 415, 431, 500, 502, 503, 504])
      answers.add(toResponse(Object.assign(new Error('x'), { statusCode })).body.error);
    answers.add(toResponse(new Error('a fault')).body.error);
    expect(answers).toContain('server_error');
    expect([...answers].filter((c) => !table.has(c))).toEqual([]);
  });

  it('name every code an error is raised with', () => {
    const codes = raised();
    expect(codes.size).toBeGreaterThan(40);
    const missing = [...codes].filter(([code]) => !table.has(code));
    expect(missing.map(([code, file]) => `${code} (${file.slice(REPO.length)})`)).toEqual([]);
  });

  it('name no code that nothing raises', () => {
    const known = new Set([
      ...raised().keys(),
      // Raised with a code computed from another (verify-integration-jwt.ts).
      'invalid_signature',
    ]);
    expect([...table].filter((c) => !known.has(c))).toEqual([]);
  });
});
