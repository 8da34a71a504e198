// Money moving concurrently between accounts: book transfers in every direction and deposits, all
// fired at once. No cent may be lost or invented, no request may fail with a 5xx, and every
// account must end exactly where the successful requests put it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Harness, Response } from '../support/api.ts';
import { POSTGRES_ONLY, accountHolding, assertNoServerErrors, balanceOf, listAll, tally, useConcurrencyHarness } from './support.ts';

const OPENING = 4_000;
const ROUNDS = 3;
const TRANSFERS_PER_ROUND = 90;
const DEPOSITS_PER_ROUND = 30;
const MAX_TRANSFER = 3_000;
const MAX_DEPOSIT = 500;

/** A small seeded generator (mulberry32): a failing run can be replayed with the same amounts. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Operation =
  | { kind: 'transfer'; from: string; to: string; amount: number }
  | { kind: 'deposit'; to: string; amount: number };

function shuffle<T>(items: T[], next: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

describe('concurrent book transfers and deposits', { skip: POSTGRES_ONLY }, () => {
  let api: Harness;
  useConcurrencyHarness((started) => { api = started; });

  const run = (op: Operation): Promise<Response> => op.kind === 'transfer'
    ? api.request('POST', '/transfers', { body: { fromAccountId: op.from, toAccountId: op.to, amount: op.amount, currency: 'USD', description: 'race' } })
    : api.request('POST', `/simulator/accounts/${op.to}/deposits`, { body: { amount: op.amount } });

  test(`${ROUNDS} rounds of ${TRANSFERS_PER_ROUND} transfers between three accounts and ${DEPOSITS_PER_ROUND} deposits at once: every cent accounted for`, async (t) => {
    const ids: string[] = [];
    for (const name of ['A', 'B', 'C']) ids.push((await accountHolding(api, OPENING, `Account ${name}`)).id);
    const expected = new Map(ids.map((id) => [id, OPENING]));
    let deposited = 0;
    let transfersCommitted = 0;
    const next = random(20_240_601);

    for (let round = 0; round < ROUNDS; round++) {
      const operations: Operation[] = [];
      for (let i = 0; i < TRANSFERS_PER_ROUND; i++) {
        // Every ordered pair, so that A→B and B→A (and cycles A→B→C→A) run at the same time.
        const from = ids[i % 3];
        const to = ids[(i + 1 + Math.floor(i / 3) % 2) % 3];
        operations.push({ kind: 'transfer', from, to, amount: 1 + Math.floor(next() * MAX_TRANSFER) });
      }
      for (let i = 0; i < DEPOSITS_PER_ROUND; i++) operations.push({ kind: 'deposit', to: ids[i % 3], amount: 1 + Math.floor(next() * MAX_DEPOSIT) });
      shuffle(operations, next);

      const responses = await Promise.all(operations.map(run));
      t.diagnostic(`round ${round}: ${JSON.stringify(tally(responses))}`);
      assertNoServerErrors(responses);
      responses.forEach((r, i) => {
        const op = operations[i];
        if (op.kind === 'deposit') {
          assert.equal(r.status, 201, `a deposit never fails: ${r.text}`);
          expected.set(op.to, expected.get(op.to)! + op.amount);
          deposited += op.amount;
        } else if (r.status === 201) {
          assert.equal(r.body.data.amount, op.amount);
          expected.set(op.from, expected.get(op.from)! - op.amount);
          expected.set(op.to, expected.get(op.to)! + op.amount);
          transfersCommitted++;
        } else {
          assert.equal(r.status, 422, r.text);
          assert.equal(r.body.error.code, 'insufficient_funds', r.text);
        }
      });
      const committedThisRound = responses.filter((r, i) => operations[i].kind === 'transfer' && r.status === 201).length;
      assert.ok(committedThisRound > 0, `round ${round}: no transfer went through (${JSON.stringify(tally(responses))})`);

      let total = 0;
      for (const id of ids) {
        const balance = await balanceOf(api, id);
        assert.deepEqual(balance, { available: expected.get(id), pending: 0, posted: expected.get(id) }, `round ${round}: ${id}`);
        assert.ok(balance.available >= 0, 'a customer account never goes negative');
        total += balance.available;
      }
      assert.equal(total, 3 * OPENING + deposited, `round ${round}: money was lost or invented`);
    }

    const events = await listAll(api, '/events?type=transfer.created');
    assert.equal(events.length, transfersCommitted, 'one transfer.created event per committed transfer');
    // Each account's entries replay to its balance: credits − debits.
    for (const id of ids) {
      const entries = await listAll(api, `/accounts/${id}/entries`);
      const net = entries.reduce((sum, e) => sum + (e.direction === 'credit' ? e.amount : -e.amount), 0);
      assert.equal(net, expected.get(id), `entries of ${id}`);
    }
    await api.checkLedger();
  });

  test('draining one account from many requests at once: exactly the affordable transfers go through', async () => {
    const amount = 700;
    const affordable = 12;
    const source = await accountHolding(api, affordable * amount, 'Drained');
    const sink = await accountHolding(api, 0, 'Sink');
    const responses = await Promise.all(Array.from({ length: 40 }, () =>
      api.request('POST', '/transfers', { body: { fromAccountId: source.id, toAccountId: sink.id, amount, currency: 'USD' } })));
    assert.deepEqual(tally(responses), { 201: affordable, '422:insufficient_funds': 40 - affordable });
    assert.deepEqual(await balanceOf(api, source.id), { available: 0, pending: 0, posted: 0 });
    assert.deepEqual(await balanceOf(api, sink.id), { available: affordable * amount, pending: 0, posted: affordable * amount });
    await api.checkLedger();
  });
});
