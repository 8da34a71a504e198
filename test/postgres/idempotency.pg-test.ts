// Idempotency-Key races (API.md "Idempotency"): identical requests fired at once with one key
// create one card or one deposit; the others are replays of it (byte for byte) or 409
// idempotency_key_in_use. And the lease's fencing token (src/platform/idempotency.ts, "Crashes"):
// a first attempt that outlives its lease, while a retry takes its key over, changes nothing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { ManualClock } from '../../src/platform/clock.ts';
import { IDEMPOTENCY_LEASE_MS } from '../../src/platform/idempotency.ts';
import { startHarness, testDatabaseUrl, type Harness, type Response } from '../support/api.ts';
import { createProgram } from '../support/fixtures.ts';
import {
  CONCURRENT_POOL_SIZE, POSTGRES_ONLY, accountHolding, assertNoServerErrors, balanceOf, listAll, tally, useConcurrencyHarness,
} from './support.ts';

const CARD_AMOUNT = 1_000;
const OPENING = 10 * CARD_AMOUNT;
const RACERS = 20;

function isReplay(r: Response) {
  return r.headers.get('idempotent-replayed') === 'true';
}

describe('concurrent requests with one Idempotency-Key', { skip: POSTGRES_ONLY }, () => {
  let api: Harness;
  useConcurrencyHarness((started) => { api = started; });

  test(`${RACERS} identical POST /cards at once: one card, replays identical to the original, or 409`, async (t) => {
    const account = await accountHolding(api, OPENING);
    const program = await createProgram(api);
    const key = `race-${randomBytes(8).toString('hex')}`;
    const body = { debitAccountId: account.id, firstName: 'Ada', lastName: 'Lovelace', type: 'virtual', currency: 'USD', typeId: program.id, amount: CARD_AMOUNT };
    const send = () => api.request('POST', '/cards', { body, headers: { 'Idempotency-Key': key } });
    const responses = await Promise.all(Array.from({ length: RACERS }, send));
    t.diagnostic(`responses: ${JSON.stringify(tally(responses))}, replays: ${responses.filter(isReplay).length}`);
    assertNoServerErrors(responses);

    const originals = responses.filter((r) => r.status === 201 && !isReplay(r));
    const replays = responses.filter((r) => r.status === 201 && isReplay(r));
    const inUse = responses.filter((r) => r.status === 409);
    assert.equal(originals.length, 1, `exactly one request executes; got ${JSON.stringify(tally(responses))}`);
    assert.equal(originals.length + replays.length + inUse.length, RACERS, `only 201 or 409; got ${JSON.stringify(tally(responses))}`);
    const original = originals[0];
    for (const r of replays) assert.equal(r.text, original.text, 'a replay is byte-identical to the original');
    for (const r of inUse) assert.equal(r.body.error.code, 'idempotency_key_in_use', r.text);

    // Once the original has finished, the key always replays it.
    const later = await send();
    assert.equal(later.status, 201, later.text);
    assert.ok(isReplay(later));
    assert.equal(later.text, original.text);

    const cardId = original.body.data.id;
    assert.deepEqual((await listAll(api, `/cards?accountId=${account.id}`)).map((c) => c.id), [cardId]);
    assert.deepEqual(await balanceOf(api, account.id), { available: OPENING - CARD_AMOUNT, pending: 0, posted: OPENING - CARD_AMOUNT });
    const events = (await listAll(api, '/events?type=card.created')).filter((e) => e.data.debitAccountId === account.id);
    assert.deepEqual(events.map((e) => e.resourceId), [cardId]);
  });

  test('one key with different bodies at once: at most one card; the others 409 or 422 idempotency_key_reused', async () => {
    const account = await accountHolding(api, OPENING, 'Reused key wallet');
    const program = await createProgram(api);
    const key = `reuse-${randomBytes(8).toString('hex')}`;
    const responses = await Promise.all(Array.from({ length: RACERS }, (_, i) =>
      api.request('POST', '/cards', {
        body: { debitAccountId: account.id, firstName: 'Ada', lastName: 'Lovelace', type: 'virtual', currency: 'USD', typeId: program.id, amount: CARD_AMOUNT + (i % 4) },
        headers: { 'Idempotency-Key': key },
      })));
    assertNoServerErrors(responses);
    const originals = responses.filter((r) => r.status === 201 && !isReplay(r));
    assert.equal(originals.length, 1, JSON.stringify(tally(responses)));
    const amount = originals[0].body.data.balance.available;
    for (const r of responses) {
      if (r === originals[0]) continue;
      if (r.status === 201) {
        assert.ok(isReplay(r));
        assert.equal(r.text, originals[0].text);
      } else if (r.status === 409) {
        assert.equal(r.body.error.code, 'idempotency_key_in_use', r.text);
      } else {
        assert.equal(r.status, 422, r.text);
        assert.equal(r.body.error.code, 'idempotency_key_reused', r.text);
      }
    }
    assert.equal((await listAll(api, `/cards?accountId=${account.id}`)).length, 1);
    assert.deepEqual(await balanceOf(api, account.id), { available: OPENING - amount, pending: 0, posted: OPENING - amount });
  });

  test('different keys at once: every request runs once (keys do not block each other)', async () => {
    const account = await accountHolding(api, OPENING, 'Many keys wallet');
    const program = await createProgram(api);
    const keys = Array.from({ length: 8 }, () => `k-${randomBytes(8).toString('hex')}`);
    // Each key sent twice at once: 8 cards, never 16.
    const responses = await Promise.all([...keys, ...keys].map((key) =>
      api.request('POST', '/cards', {
        body: { debitAccountId: account.id, firstName: 'Ada', lastName: 'Lovelace', type: 'virtual', currency: 'USD', typeId: program.id, amount: CARD_AMOUNT },
        headers: { 'Idempotency-Key': key },
      })));
    assertNoServerErrors(responses);
    assert.equal(responses.filter((r) => r.status === 201 && !isReplay(r)).length, keys.length, JSON.stringify(tally(responses)));
    for (const r of responses.filter((x) => x.status !== 201)) assert.equal(r.body.error?.code, 'idempotency_key_in_use', r.text);
    assert.equal((await listAll(api, `/cards?accountId=${account.id}`)).length, keys.length);
    const spent = keys.length * CARD_AMOUNT;
    assert.deepEqual(await balanceOf(api, account.id), { available: OPENING - spent, pending: 0, posted: OPENING - spent });
  });
});

const DEPOSIT_AMOUNT = 300;
/** How often, and how many times, to look whether requests are waiting on the test's lock. */
const LOCK_POLL_MS = 20;
const MAX_LOCK_POLLS = 500;

async function depositEvents(api: Harness, accountId: string) {
  return (await listAll(api, `/events?resourceId=${accountId}&type=account.deposit_received`)).length;
}

describe('concurrent deposits with one Idempotency-Key', { skip: POSTGRES_ONLY }, () => {
  let api: Harness;
  useConcurrencyHarness((started) => { api = started; });

  test(`${RACERS} identical keyed deposits at once: applied exactly once`, async () => {
    const account = await accountHolding(api, 0, 'Racing deposits');
    const key = `deposit-${randomBytes(8).toString('hex')}`;
    const send = () => api.request('POST', `/simulator/accounts/${account.id}/deposits`, { body: { amount: DEPOSIT_AMOUNT }, headers: { 'Idempotency-Key': key } });
    const responses = await Promise.all(Array.from({ length: RACERS }, send));
    assertNoServerErrors(responses);
    const originals = responses.filter((r) => r.status === 201 && !isReplay(r));
    assert.equal(originals.length, 1, JSON.stringify(tally(responses)));
    for (const r of responses) {
      if (r.status === 201) assert.equal(r.text, originals[0].text);
      else assert.equal(r.body.error?.code, 'idempotency_key_in_use', r.text);
    }
    assert.deepEqual(await balanceOf(api, account.id), { available: DEPOSIT_AMOUNT, pending: 0, posted: DEPOSIT_AMOUNT });
    assert.equal(await depositEvents(api, account.id), 1);
  });
});

describe('a first attempt that outlives its lease', { skip: POSTGRES_ONLY }, () => {
  const clock = new ManualClock();
  let api: Harness;
  let locker: pg.Client;
  before(async () => {
    api = await startHarness({ clock, config: { sandboxOpeningBalance: 0, databasePoolSize: CONCURRENT_POOL_SIZE, rateLimitPerMinute: 1_000_000 } });
    locker = new pg.Client({ connectionString: testDatabaseUrl() });
    await locker.connect();
  });
  after(async () => {
    await locker?.end();
    try {
      await api?.checkLedger();
    } finally {
      await api?.close();
    }
  });

  /** Waits until `count` requests are blocked behind the locker's transaction. */
  async function blockedBehindLocker(count: number) {
    const [{ pid }] = (await locker.query('SELECT pg_backend_pid() AS pid')).rows;
    const admin = new pg.Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    try {
      for (let poll = 0; poll < MAX_LOCK_POLLS; poll++) {
        const { rows } = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [pid]);
        if (rows[0].n >= count) return;
        await sleep(LOCK_POLL_MS);
      }
      throw new Error(`${count} requests never queued behind the test's lock`);
    } finally {
      await admin.end();
    }
  }

  test('a retry takes the key over after the lease; the first attempt then answers 409 and changes nothing', async () => {
    const account = await accountHolding(api, 0, 'Fenced deposits');
    const key = `fenced-${randomBytes(8).toString('hex')}`;
    const send = () => api.request('POST', `/simulator/accounts/${account.id}/deposits`, { body: { amount: DEPOSIT_AMOUNT }, headers: { 'Idempotency-Key': key } });
    // Hold the account row so that the first attempt, once it has claimed the key, waits in its
    // transaction for as long as the test wants: longer than its lease.
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE', [account.id]);
    const first = send();
    await blockedBehindLocker(1);
    clock.advance(IDEMPOTENCY_LEASE_MS + 1_000);
    const retry = send();
    await blockedBehindLocker(2);
    await locker.query('COMMIT');
    const [firstAnswer, retryAnswer] = await Promise.all([first, retry]);

    assert.equal(retryAnswer.status, 201, retryAnswer.text);
    assert.equal(isReplay(retryAnswer), false, 'the retry executed');
    assert.equal(firstAnswer.status, 409, firstAnswer.text);
    assert.equal(firstAnswer.body.error.code, 'idempotency_key_in_use');
    assert.deepEqual(await balanceOf(api, account.id), { available: DEPOSIT_AMOUNT, pending: 0, posted: DEPOSIT_AMOUNT });
    assert.equal(await depositEvents(api, account.id), 1);
    const later = await send();
    assert.ok(isReplay(later));
    assert.equal(later.text, retryAnswer.text, 'the key belongs to the attempt that took it over');
  });
});
