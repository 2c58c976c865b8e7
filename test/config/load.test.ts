import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'lk-config-'));
const file = (content: unknown) => {
  const f = join(dir, `c${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
};
const fails = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig', () => {
  it('has documented defaults, derived by role', () => {
    const author = loadConfig({ env: {}, cwd: '/srv' });
    expect(author).toMatchObject({
      role: 'author',
      port: 4502,
      host: '127.0.0.1',
      data: '/srv/latchkey-data',
      db: 'sqlite:/srv/latchkey-data/author.sqlite',
      security: { anonymous: false, passwordHashCost: 15 },
      http: { bodyLimit: 1048576, maxPathLength: 1024, maxRenderNodes: 1000 },
    });
    const publish = loadConfig({ env: {}, cwd: '/srv', flags: { role: 'publish' } });
    expect(publish).toMatchObject({
      port: 4503,
      security: { anonymous: true },
      db: 'sqlite:/srv/latchkey-data/publish.sqlite',
    });
  });

  it('takes file < environment < flags', () => {
    const f = file({ port: 1111, http: { bodyLimit: 5000 }, security: { anonymous: true } });
    const fromFile = loadConfig({ env: {}, file: f });
    expect(fromFile.port).toBe(1111);
    expect(fromFile.http.bodyLimit).toBe(5000);
    expect(fromFile.security.anonymous).toBe(true);
    const fromEnv = loadConfig({
      env: { LATCHKEY_PORT: '2222', LATCHKEY_CONFIG: f },
      file: undefined,
    });
    expect(fromEnv.port).toBe(2222);
    expect(fromEnv.http.bodyLimit).toBe(5000);
    expect(
      loadConfig({ env: { LATCHKEY_PORT: '2222' }, file: f, flags: { port: '3333' } }).port,
    ).toBe(3333);
    expect(loadConfig({ env: { LATCHKEY_SECURITY_ANONYMOUS: 'off' } }).security.anonymous).toBe(
      false,
    );
  });

  it('names the option, the source and the bad value', () => {
    const e = fails(() => loadConfig({ env: { LATCHKEY_HTTP_BODY_LIMIT: 'lots' } }));
    expect(e.option).toBe('http.bodyLimit');
    expect(e.message).toBe(
      'http.bodyLimit (from environment variable LATCHKEY_HTTP_BODY_LIMIT) must be an integer from 1024 to 1073741824, got "lots"',
    );
    expect(fails(() => loadConfig({ env: {}, flags: { port: '70000' } })).message).toMatch(
      /^port \(from flag for port\)/,
    );
    expect(fails(() => loadConfig({ env: {}, flags: { role: 'editor' } })).message).toContain(
      'one of author, publish, ims',
    );
    expect(fails(() => loadConfig({ env: {}, flags: { db: 'mysql://x' } })).option).toBe('db');
  });

  it('never echoes a secret or a database URL it cannot parse', () => {
    const e = fails(() => loadConfig({ env: {}, flags: { adminPassword: '' } }));
    expect(e.message).toContain('(value hidden)');
    const url = fails(() => loadConfig({ env: { LATCHKEY_DB: 'postgres://u:hunter2@[bad' } }));
    expect(url.message).not.toContain('hunter2');
    const printed = JSON.stringify(
      describeConfig(
        loadConfig({
          env: {},
          flags: { adminPassword: 'hunter2', db: 'postgres://u:hunter2@h/db' },
        }),
      ),
    );
    expect(printed).not.toContain('hunter2');
  });

  it('refuses unknown keys and malformed files', () => {
    expect(fails(() => loadConfig({ env: {}, file: file({ prot: 1 }) })).message).toContain(
      'unknown option prot',
    );
    expect(fails(() => loadConfig({ env: {}, file: file({ http: { bodyLimt: 1 } }) })).option).toBe(
      'http.bodyLimt',
    );
    expect(fails(() => loadConfig({ env: {}, file: file('{not json') })).message).toContain(
      'not valid JSON',
    );
    expect(fails(() => loadConfig({ env: {}, file: file('[1]') })).message).toContain(
      'JSON object',
    );
    expect(fails(() => loadConfig({ env: {}, file: join(dir, 'missing.json') })).message).toContain(
      'cannot read',
    );
  });

  it('needs both TLS files or neither', () => {
    expect(fails(() => loadConfig({ env: {}, flags: { 'tls.cert': 'c.pem' } })).option).toBe(
      'tls.key',
    );
    expect(
      loadConfig({ env: {}, cwd: '/x', flags: { 'tls.cert': 'c.pem', 'tls.key': 'k.pem' } }).tls,
    ).toEqual({
      cert: '/x/c.pem',
      key: '/x/k.pem',
    });
  });

  it('returns a deeply frozen object', () => {
    const config = loadConfig({ env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.http)).toBe(true);
    expect(() => {
      (config.http as { bodyLimit: number }).bodyLimit = 1;
    }).toThrow(TypeError);
  });
});
