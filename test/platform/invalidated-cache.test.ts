// The cache behind per-process credentials (platform/invalidated-cache.ts): what it keeps, and
// that nothing read before an invalidation survives it. Its use over HTTP, with PostgreSQL's
// notifications, is test/postgres/credential-cache.pg-test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidatedCache } from '../../src/platform/invalidated-cache.ts';

function counting<V>(value: V) {
  const calls = { count: 0 };
  return { calls, load: async () => { calls.count++; return value; } };
}

test('nothing is kept until the channel is heard, and nothing once it is lost', async () => {
  const cache = new InvalidatedCache<{ n: number }>({ maxEntries: 10, maxAgeMs: 60_000, groupOf: () => 'g' });
  const { calls, load } = counting({ n: 1 });
  await cache.get('k', load);
  await cache.get('k', load);
  assert.equal(calls.count, 2, 'not listening: every get loads');
  cache.heard();
  await cache.get('k', load);
  await cache.get('k', load);
  assert.equal(calls.count, 3, 'listening: the second get is served from memory');
  cache.deaf();
  assert.equal(cache.size, 0);
  await cache.get('k', load);
  assert.equal(calls.count, 4);
});

test('a load that began before an invalidation is returned but not kept', async () => {
  const cache = new InvalidatedCache<string>({ maxEntries: 10, maxAgeMs: 60_000, groupOf: (v) => v });
  cache.heard();
  let release!: () => void;
  const slow = cache.get('k', () => new Promise((resolve) => { release = () => resolve('old'); }));
  cache.invalidate();
  release();
  assert.equal(await slow, 'old');
  assert.equal(cache.size, 0, 'a row read before the change must not outlive it');
  assert.equal(await cache.get('k', async () => 'new'), 'new');
  assert.equal(await cache.get('k', async () => 'unused'), 'new');
});

test('misses are not kept; entries age out; the oldest goes first; kept values are frozen', async () => {
  let now = 0;
  const cache = new InvalidatedCache<{ scopes: string[] }>({ maxEntries: 2, maxAgeMs: 1_000, now: () => now, groupOf: () => 'g' });
  cache.heard();
  const miss = counting(null);
  await cache.get('missing', miss.load);
  await cache.get('missing', miss.load);
  assert.equal(miss.calls.count, 2);
  const value = await cache.get('a', async () => ({ scopes: ['cards:read'] }));
  assert.throws(() => value!.scopes.push('accounts:write'), TypeError, 'a shared value cannot be changed by one caller');
  now = 999;
  assert.deepEqual(await cache.get('a', async () => ({ scopes: ['changed'] })), { scopes: ['cards:read'] });
  now = 1_000;
  assert.deepEqual(await cache.get('a', async () => ({ scopes: ['reloaded'] })), { scopes: ['reloaded'] });
  await cache.get('b', async () => ({ scopes: [] }));
  await cache.get('c', async () => ({ scopes: [] }));
  assert.equal(cache.size, 2);
  assert.deepEqual(await cache.get('a', async () => ({ scopes: ['evicted'] })), { scopes: ['evicted'] });
});

test("a group's invalidation forgets that group only, and still keeps no load in flight", async () => {
  const cache = new InvalidatedCache<{ org: string }>({ maxEntries: 10, maxAgeMs: 60_000, groupOf: (v) => v.org });
  cache.heard();
  await cache.get('a1', async () => ({ org: 'org_a' }));
  await cache.get('b1', async () => ({ org: 'org_b' }));
  let release!: () => void;
  const inFlight = cache.get('b2', () => new Promise((resolve) => { release = () => resolve({ org: 'org_b' }); }));
  cache.invalidate('org_a');
  release();
  await inFlight;
  assert.equal(cache.size, 1, 'org_a forgotten; org_b kept; the load in flight during the change not kept');
  const { calls, load } = counting({ org: 'org_b' });
  await cache.get('b1', load);
  assert.equal(calls.count, 0, "org_b's entry still served from memory");
  await cache.get('a1', async () => ({ org: 'org_a' }));
  assert.deepEqual(cache.stats, { hits: 1, misses: 4 });
});
