// Several instances on one PostgreSQL (issue 13): two API processes and two worker processes,
// the APIs sharing rate limits through Redis (REDIS_URL, a key prefix of this run's own, removed
// afterwards). Under concurrent load split across both APIs the guarantees hold as with one:
// - one card spent from both APIs at once never goes below zero, and the money adds up;
// - authorizations on one card from both APIs approve only what the card holds;
// - with both workers delivering, every event reaches the receiver exactly once (it answers 2xx);
// - with both workers sweeping, every overdue hold is expired exactly once;
// - the per-credential rate limit is one limit across both APIs, not one per process.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import * as ledger from '../../src/modules/ledger/ledger.service.ts';
import { openDb, type Db } from '../../src/platform/db.ts';
import { send, type Harness, type Response } from '../support/api.ts';
import { createAccount, createProgram, issueNameOnlyCard } from '../support/fixtures.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { clientFor, createOwnDatabase, eventually, kill, startServer, startWorker, type PaygenProcess } from './processes.ts';
import { assertNoServerErrors, POSTGRES_ONLY, tally } from './support.ts';

const REDIS_URL = process.env.PAYGEN_TEST_REDIS_URL || 'redis://127.0.0.1:6379';
/** Per credential per minute, across both APIs: the load below stays under it per credential. */
const RATE_LIMIT = 120;
const CARD_FUNDS = 10_000;
const WITHDRAWAL = 1_000;
const WITHDRAWALS = 30;
const AUTHORIZATIONS = 24;
const OVERDUE_HOLDS = 30;
const MERCHANT = { name: 'Twin Diner', mcc: '5812', city: 'Oslo', country: 'NO', id: 'mch_twin' };

describe('two API processes and two workers on one PostgreSQL', { skip: POSTGRES_ONLY }, () => {
  const prefix = `paygen-test-${randomBytes(6).toString('hex')}:`;
  let database: Awaited<ReturnType<typeof createOwnDatabase>>;
  let receiver: Receiver;
  let redis: Redis;
  let db: Db;
  let apis: PaygenProcess[] = [];
  const processes: PaygenProcess[] = [];
  /** The same organization and key through API 1 and API 2. */
  let one: Harness;
  let two: Harness;
  let webhookCreatedAt: Date;

  before(async () => {
    database = await createOwnDatabase();
    receiver = await startReceiver({ json: { ok: true } });
    redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    const apiEnv = { REDIS_URL, PAYGEN_REDIS_KEY_PREFIX: prefix, PAYGEN_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT) };
    apis = await Promise.all([startServer(database.url, apiEnv), startServer(database.url, apiEnv)]);
    processes.push(...apis, ...await Promise.all([startWorker(database.url), startWorker(database.url)]));
    db = await openDb({ databaseUrl: database.url, dataDir: '', poolSize: 2 });
    one = await clientFor(apis[0].url);
    two = { ...one, baseUrl: apis[1].url, request: (method, path, options = {}) => send(apis[1].url, method, path, options, one.apiKey) };
    const hook = await one.request('POST', '/webhooks', { body: { url: `${receiver.url}/events`, events: ['*'] } });
    assert.equal(hook.status, 201, hook.text);
    webhookCreatedAt = new Date(hook.body.data.createdAt);
  });
  after(async () => {
    for (const p of processes) await kill(p);
    await receiver?.close();
    await db?.close();
    if (redis) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
    await database?.drop();
  });

  /** Half the calls through each API, all at once. */
  const split = <T>(count: number, call: (api: Harness, i: number) => Promise<T>) =>
    Promise.all(Array.from({ length: count }, (_, i) => call(i % 2 ? two : one, i)));

  test('withdrawals from one card through both APIs at once: never below zero, nothing lost', async () => {
    const account = await createAccount(one);
    assert.equal((await one.request('POST', `/simulator/accounts/${account.id}/deposits`, { body: { amount: 1_000_000 } })).status, 201);
    const program = await createProgram(one);
    const card = await issueNameOnlyCard(one, account, program, CARD_FUNDS);
    assert.equal(card.status, 201, card.text);
    const results: Response[] = await split(WITHDRAWALS, (api) =>
      api.request('POST', `/cards/${card.body.data.id}/withdraw`, { body: { amount: WITHDRAWAL } }));
    assertNoServerErrors(results);
    assert.deepEqual(tally(results), { 200: CARD_FUNDS / WITHDRAWAL, '422:insufficient_funds': WITHDRAWALS - CARD_FUNDS / WITHDRAWAL });
    const after = await two.request('GET', `/cards/${card.body.data.id}`);
    assert.deepEqual(after.body.data.balance, { available: 0, pending: 0 });
    const funding = await one.request('GET', `/accounts/${account.id}`);
    assert.equal(funding.body.data.balance.posted, 1_000_000, 'every cent withdrawn came back to the account');
  });

  test('authorizations on one card through both APIs at once approve only what it holds', async () => {
    const account = await createAccount(one);
    assert.equal((await one.request('POST', `/simulator/accounts/${account.id}/deposits`, { body: { amount: 100_000 } })).status, 201);
    const program = await createProgram(one);
    const card = await issueNameOnlyCard(one, account, program, 5 * WITHDRAWAL);
    assert.equal(card.status, 201, card.text);
    const results = await split(AUTHORIZATIONS, (api) => api.request('POST', '/simulator/authorizations',
      { body: { cardId: card.body.data.id, amount: WITHDRAWAL, currency: 'USD', merchant: MERCHANT, entryMode: 'contactless' } }));
    assertNoServerErrors(results);
    assert.ok(results.every((r) => r.status === 201), JSON.stringify(tally(results)));
    assert.equal(results.filter((r) => r.body.data.approved).length, 5);
    const balance = (await two.request('GET', `/cards/${card.body.data.id}`)).body.data.balance;
    assert.deepEqual(balance, { available: 0, pending: 5 * WITHDRAWAL });
  });

  test('overdue holds swept by both workers: each expired exactly once', async () => {
    const account = await createAccount(one);
    assert.equal((await one.request('POST', `/simulator/accounts/${account.id}/deposits`, { body: { amount: 100_000 } })).status, 201);
    const program = await createProgram(one);
    const card = await issueNameOnlyCard(one, account, program, OVERDUE_HOLDS * 100);
    assert.equal(card.status, 201, card.text);
    const holds = await split(OVERDUE_HOLDS, (api) => api.request('POST', '/simulator/authorizations',
      { body: { cardId: card.body.data.id, amount: 100, currency: 'USD', merchant: MERCHANT, entryMode: 'contactless' } }));
    assert.ok(holds.every((r) => r.status === 201 && r.body.data.approved), JSON.stringify(tally(holds)));
    // Overdue now, instead of after the program's hold time.
    const ids = holds.map((r) => r.body.data.id as string);
    await db.query(`UPDATE authorizations SET expires_at = now() - interval '1 minute' WHERE id = ANY($1)`, [ids]);
    await eventually('every overdue hold expired', async () => {
      const [{ n }] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM authorizations WHERE id = ANY($1) AND status = 'expired'`, [ids]);
      return n === OVERDUE_HOLDS;
    }, 600, 100);
    const expired = await db.query<{ resource_id: string; n: number }>(
      `SELECT resource_id, count(*)::int AS n FROM events WHERE organization_id = $1 AND type = 'authorization.expired' AND resource_id = ANY($2)
       GROUP BY resource_id`, [one.organizationId, ids]);
    assert.equal(expired.length, OVERDUE_HOLDS);
    assert.ok(expired.every((e) => e.n === 1), 'one authorization.expired event per hold');
    const balance = (await one.request('GET', `/cards/${card.body.data.id}`)).body.data.balance;
    assert.deepEqual(balance, { available: OVERDUE_HOLDS * 100, pending: 0 }, 'each hold released once');
    const check = await ledger.check(db, one.organizationId);
    assert.ok(check.ok, check.problems.join('\n'));
  });

  test('every event is delivered exactly once by the two workers', async () => {
    const events = await db.query<{ id: string }>(
      `SELECT id FROM events WHERE organization_id = $1 AND created_at >= $2 AND type <> 'webhook.test'`, [one.organizationId, webhookCreatedAt]);
    assert.ok(events.length > WITHDRAWALS, `${events.length} events`);
    const counts = () => {
      const seen = new Map<string, number>();
      for (const r of receiver.requests) seen.set(String(r.headers['webhook-id']), (seen.get(String(r.headers['webhook-id'])) ?? 0) + 1);
      return seen;
    };
    await eventually('every event delivered', async () => events.every((e) => counts().has(e.id)), 600, 100);
    const duplicates = [...counts()].filter(([, n]) => n > 1);
    assert.deepEqual(duplicates, [], 'no event delivered twice');
    // A worker records its attempt once the receiver has answered: let the deliveries still in
    // flight (the events of the tests above keep coming) settle before counting.
    await eventually('every delivery settled', async () => {
      const [{ n }] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM webhook_deliveries WHERE organization_id = $1 AND status IN ('pending', 'sending')`,
        [one.organizationId]);
      return n === 0;
    }, 600, 100);
    const [{ n }] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM webhook_attempts WHERE organization_id = $1`, [one.organizationId]);
    assert.equal(n, receiver.requests.length, 'one recorded attempt per request received');
  });

  test('the rate limit is one limit across both APIs (Redis), not one per process', async () => {
    // A credential of its own, so that the requests above do not count.
    const key = (await clientFor(one.baseUrl)).apiKey;
    const results = await split(RATE_LIMIT, (api) => send(api.baseUrl, 'GET', '/accounts?limit=1', {}, key));
    assert.deepEqual(tally(results), { 200: RATE_LIMIT });
    const remaining = results.map((r) => Number(r.headers.get('x-ratelimit-remaining'))).sort((a, b) => a - b);
    assert.deepEqual(remaining, Array.from({ length: RATE_LIMIT }, (_, i) => i), 'one counter: each request counted once, in either process');
    for (const api of [one, two]) {
      const over = await send(api.baseUrl, 'GET', '/accounts?limit=1', {}, key);
      assert.equal(over.status, 429, `${api.baseUrl}: ${over.text}`);
      assert.equal(over.body.error.code, 'rate_limited');
    }
    assert.ok((await redis.keys(`${prefix}*`)).length > 0, 'the counters live in Redis under this run\'s prefix');
  });
});
