import { describe, expect, it } from 'vitest';
import { TtlCache } from './ttl-cache.js';

describe('TtlCache', () => {
  it('keeps entries for their time to live, bounded in count', async () => {
    const cache = new TtlCache<string, number>({ ttlMs: 40, max: 2 });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect(cache.size).toBe(2);
    expect(cache.get('c')).toBe(3);
    await new Promise((r) => setTimeout(r, 60));
    expect(cache.get('c')).toBeUndefined();
  });

  it('drops everything when its scope changes', () => {
    let generation = 0;
    const cache = new TtlCache<string, number>({ ttlMs: 60_000, max: 10, scope: () => generation });
    cache.set('a', 1);
    generation++;
    expect(cache.get('a')).toBeUndefined();
  });

  it('never keeps a value read before a drop (a change made while the read ran)', async () => {
    let generation = 0;
    const cache = new TtlCache<string, string>({ ttlMs: 60_000, max: 10, scope: () => generation });
    for (const drop of [() => generation++, () => cache.clear(), () => cache.delete('other')]) {
      const ticket = cache.ticket();
      drop();
      cache.set('k', 'stale', ticket);
      expect(cache.get('k')).toBeUndefined();
    }
    let release = () => {};
    const loading = cache.fetch('k', () => new Promise<string>((r) => (release = () => r('old'))));
    cache.clear();
    release();
    expect(await loading).toBe('old'); // answered to the caller that asked before the change
    expect(cache.get('k')).toBeUndefined(); // but not kept for the next one
  });

  it('keeps nothing with a time to live of 0', () => {
    const cache = new TtlCache<string, number>({ ttlMs: 0, max: 10 });
    cache.set('a', 1);
    expect(cache.get('a')).toBeUndefined();
  });

  it('counts hits and misses', async () => {
    const cache = new TtlCache<string, number>({ ttlMs: 60_000, max: 10 });
    await cache.fetch('a', async () => 1);
    await cache.fetch('a', async () => 2);
    expect(await cache.fetch('a', async () => 3)).toBe(1);
    expect(cache.stats).toEqual({ hits: 2, misses: 1 });
  });
});
