// Authorizations racing on PostgreSQL (issue 4): one card funded for exactly 50 holds, a budget
// shared by 20 cards, and the expiry sweeper racing captures.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sweepExpiredHolds } from '../../src/modules/authorizations/expiry.job.ts';
import type { Harness } from '../support/api.ts';
import { createProgram, issueNameOnlyCard, issueNameOnlyCards } from '../support/fixtures.ts';
import { budgetCard, createBudget } from '../budgets/helpers.ts';
import { ONLINE, authorize } from '../authorizations/support.ts';
import { sample, scrape } from '../support/metrics.ts';
import { POSTGRES_ONLY, accountHolding, assertNoServerErrors, balanceOf, listAll, tally, useConcurrencyHarness } from './support.ts';

const AMOUNT = 100;
const FUNDED_FOR = 50;
const REQUESTS = 200;

describe('authorizations racing', { skip: POSTGRES_ONLY }, () => {
  let api: Harness;
  useConcurrencyHarness((started) => { api = started; });

  // First while the organization has no settlement account (every request takes the rules' path
  // and one of them makes it), then with it known: the one-statement path (authorizeInOneStatement).
  const cases = ['the organization\'s first', 'the settlement account known'] as const;
  for (const when of cases) test(`${REQUESTS} concurrent authorizations on one card funded for exactly ${FUNDED_FOR}, ${when}: exactly ${FUNDED_FOR} approved`, async (t) => {
    const account = await accountHolding(api, AMOUNT * FUNDED_FOR);
    const issued = await issueNameOnlyCard(api, account, await createProgram(api), AMOUNT * FUNDED_FOR);
    assert.equal(issued.status, 201, issued.text);
    const card = issued.body.data;
    const responses = await Promise.all(Array.from({ length: REQUESTS }, () => authorize(api, card.id, AMOUNT, ONLINE)));
    t.diagnostic(`responses: ${JSON.stringify(tally(responses))}`);
    assertNoServerErrors(responses);
    assert.ok(responses.every((r) => r.status === 201));
    const approvedCount = responses.filter((r) => r.body.data.approved).length;
    assert.equal(approvedCount, FUNDED_FOR);
    for (const r of responses.filter((x) => !x.body.data.approved)) assert.equal(r.body.data.declineReason, 'insufficient_funds');
    const balance = (await api.request('GET', `/cards/${card.id}`)).body.data.balance;
    assert.deepEqual(balance, { available: 0, pending: AMOUNT * FUNDED_FOR });
    const pending = await listAll(api, `/authorizations?cardId=${card.id}&status=pending`);
    assert.equal(pending.reduce((sum, a) => sum + a.heldAmount, 0), AMOUNT * FUNDED_FOR);
  });

  test('one statement each: 20 cards racing on the settlement account, and one network message sent 20 times', async (t) => {
    const account = await accountHolding(api, 100_000);
    const program = await createProgram(api);
    const cards = await issueNameOnlyCards(api, account, program, 20, 1_000);
    const first = (await issueNameOnlyCard(api, account, program, 1)).body.data;
    assert.equal((await authorize(api, first.id, 1, ONLINE)).body.data.approved, true); // the settlement account
    // A deadlock is retried (db.ts), so the answers alone would not show one: the metric does.
    const deadlocks = async () => sample(await scrape(api), 'paygen_db_transaction_retries_total', { reason: 'deadlock' });
    const deadlocksBefore = await deadlocks();
    const responses = await Promise.all(cards.flatMap((card) => Array.from({ length: 10 }, () => authorize(api, card.id, AMOUNT, ONLINE))));
    t.diagnostic(`responses: ${JSON.stringify(tally(responses))}`);
    assert.equal(await deadlocks(), deadlocksBefore, 'no deadlock between the one statements');
    assertNoServerErrors(responses);
    assert.ok(responses.every((r) => r.status === 201 && r.body.data.approved), JSON.stringify(tally(responses)));
    for (const [i, card] of cards.entries()) {
      const balance = (await api.request('GET', `/cards/${card.id}`)).body.data.balance;
      assert.deepEqual(balance, { available: 0, pending: 1_000 }, `card ${i}`);
    }
    const card = (await issueNameOnlyCard(api, account, program, 1_000)).body.data;
    const sameMessage = await Promise.all(Array.from({ length: 20 }, () => authorize(api, card.id, 7, { ...ONLINE, networkId: 'net-raced' })));
    assertNoServerErrors(sameMessage);
    assert.equal(new Set(sameMessage.map((r) => r.body.data.id)).size, 1, JSON.stringify(tally(sameMessage)));
    assert.deepEqual((await api.request('GET', `/cards/${card.id}`)).body.data.balance, { available: 993, pending: 7 });
  });

  test('20 cards on one budget racing: the budget is never exceeded', async (t) => {
    const limit = 2_000;
    const account = await accountHolding(api, 100_000);
    const budget = await createBudget(api, account.id, { limit: { amount: limit, interval: 'monthly' } });
    const program = await createProgram(api);
    const cards: Array<{ id: string }> = [];
    for (let i = 0; i < 20; i++) cards.push(await budgetCard(api, budget, program));
    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => authorize(api, cards[i % 20].id, 70, ONLINE)));
    t.diagnostic(`responses: ${JSON.stringify(tally(responses))}`);
    assertNoServerErrors(responses);
    const approvedTotal = responses.filter((r) => r.body.data.approved).reduce((sum, r) => sum + r.body.data.heldAmount, 0);
    assert.equal(approvedTotal, Math.floor(limit / 70) * 70);
    for (const r of responses.filter((x) => !x.body.data.approved)) assert.equal(r.body.data.declineReason, 'budget_exceeded');
    const figures = (await api.request('GET', `/budgets/${budget.id}`)).body.data;
    assert.equal(figures.spent, approvedTotal);
    assert.ok(figures.spent <= limit);
    assert.equal((await balanceOf(api, account.id)).available, 100_000 - approvedTotal);
  });

  for (const start of ['together', 'after the first capture'] as const) test(`the expiry sweeper racing captures never releases a hold twice (sweepers start ${start})`, async (t) => {
    const holds = 40;
    const account = await accountHolding(api, holds * AMOUNT);
    const issued = await issueNameOnlyCard(api, account, await createProgram(api, { holdTtlHours: 1 }), holds * AMOUNT);
    const card = issued.body.data;
    const auths: Array<{ id: string }> = [];
    for (let i = 0; i < holds; i++) {
      const res = await authorize(api, card.id, AMOUNT, ONLINE);
      assert.equal(res.body.data.approved, true, res.text);
      auths.push(res.body.data);
    }
    // Due now: the sweeper sees the holds as expired, while captures of half of them race it.
    await api.app.ctx.db.query('UPDATE authorizations SET expires_at = now() - interval \'1 second\' WHERE card_id = $1', [card.id]);
    const captures = auths.filter((_, i) => i % 2 === 0).map((a) => api.request('POST', `/simulator/authorizations/${a.id}/capture`, { body: {} }));
    // Started together the sweepers tend to win; started after the first capture, the captures do.
    if (start !== 'together') await Promise.race(captures);
    const sweeps = Array.from({ length: 4 }, async () => {
      let handled = 0;
      for (let i = 0; i < 10; i++) handled += await sweepExpiredHolds(api.app.ctx, api.organizationId);
      return handled;
    });
    const [captured, swept] = await Promise.all([Promise.all(captures), Promise.all(sweeps)]);
    assertNoServerErrors(captured);
    assert.ok(captured.every((r) => r.status === 200), JSON.stringify(tally(captured)));
    const expiredCount = swept.reduce((a, b) => a + b, 0);
    t.diagnostic(`swept ${expiredCount} of ${holds}`);
    const [{ resolutions, pendings }] = await api.app.ctx.db.query<{ resolutions: number; pendings: number }>(
      `SELECT (SELECT count(*) FROM ledger_transfers r JOIN ledger_transfers p ON p.id = r.pending_id WHERE p.reference_id = $1)::int AS resolutions,
              (SELECT count(*) FROM ledger_transfers WHERE reference_id = $1 AND kind = 'pending')::int AS pendings`, [card.id]);
    assert.equal(resolutions, pendings, 'every hold resolved exactly once');
    const all = await listAll(api, `/authorizations?cardId=${card.id}`);
    // A capture that came after the sweeper closed an expired authorization; either way, one expiry each at most.
    assert.equal(all.filter((a) => a.history.some((h: { kind: string }) => h.kind === 'expiry')).length, expiredCount);
    assert.ok(all.every((a) => a.history.filter((h: { kind: string }) => h.kind === 'expiry').length <= 1));
    assert.equal(all.filter((a) => a.status === 'closed').length, holds / 2);
    assert.equal(all.filter((a) => a.status === 'expired').length, holds / 2);
    assert.equal(all.filter((a) => a.status === 'pending').length, 0);
    const balance = (await api.request('GET', `/cards/${card.id}`)).body.data.balance;
    // The captured half was paid (from its hold, or forced after expiry); the rest came back.
    assert.deepEqual(balance, { available: (holds / 2) * AMOUNT, pending: 0 });
  });
});
