// Budget cards (holds on the budget's account, within the budget's remaining amount) and the
// expiry sweeper, driven by a ManualClock with the background workers off.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sweepExpiredHolds } from '../../src/modules/authorizations/expiry.job.ts';
import { ManualClock } from '../../src/platform/clock.ts';
import { startHarness, type Harness } from '../support/api.ts';
import { balanceOf, createAccount, createProgram } from '../support/fixtures.ts';
import { budgetCard, budgetFigures, createBudget, monthlyBudgetWithTwoCards } from '../budgets/helpers.ts';
import { approved, authorize, cardBalance, fundedCard, step } from './support.ts';

const HOUR_MS = 3600_000;
const clock = new ManualClock(new Date('2026-05-10T12:00:00Z'));
let api: Harness;
before(async () => { api = await startHarness({ clock, config: { workers: false } }); });
after(async () => {
  try { await api.checkLedger(); } finally { await api.close(); }
});

async function spentAndRemaining(id: string) {
  const { spent, remaining } = await budgetFigures(api, id);
  return { spent, remaining };
}

describe('budget cards', () => {
  test('holds sit on the budget account, within the budget; partial approval up to the remaining amount', async () => {
    const { account, budget, a, b } = await monthlyBudgetWithTwoCards(api, 1_000);
    const before = await balanceOf(api, account.id);
    const first = await approved(api, a.id, 600);
    assert.deepEqual(await spentAndRemaining(budget.id), { spent: 600, remaining: 400 });
    assert.equal((await balanceOf(api, account.id)).available, before.available - 600);
    assert.deepEqual(await cardBalance(api, a.id), { available: 0, pending: 0 }, 'a budget card has no balance of its own');
    const [holdEntry] = (await api.request('GET', `/accounts/${account.id}/entries?limit=1`)).body.data;
    assert.deepEqual({ ...holdEntry, id: undefined, createdAt: undefined, balanceAfter: undefined, description: undefined }, {
      id: undefined, direction: 'debit', amount: 600, currency: 'USD', kind: 'authorization', status: 'pending',
      referenceType: 'card', referenceId: a.id, description: undefined, balanceAfter: undefined, createdAt: undefined,
    });
    const over = await authorize(api, b.id, 401);
    assert.equal(over.body.data.declineReason, 'budget_exceeded', over.text);
    const partial = await approved(api, b.id, 500, { partialApprovalSupported: true });
    assert.equal(partial.approvedAmount, 400);
    assert.deepEqual(await spentAndRemaining(budget.id), { spent: 1_000, remaining: 0 });
    // An increment beyond the budget is declined; a reversal gives the budget back.
    const inc = await step(api, first.id, 'increment', { amount: 1 });
    assert.equal(inc.body.data.history.at(-1).reason, 'budget_exceeded');
    await step(api, first.id, 'reverse', { amount: 100 });
    assert.deepEqual(await spentAndRemaining(budget.id), { spent: 900, remaining: 100 });
    // A capture below the hold counts what was captured; a refund gives spend back.
    await step(api, partial.id, 'capture', { amount: 300 });
    const [posted] = (await api.request('GET', `/accounts/${account.id}/entries?limit=1`)).body.data;
    assert.deepEqual([posted.kind, posted.status, posted.amount, posted.referenceId], ['authorization', 'posted', 300, b.id]);
    assert.deepEqual(await spentAndRemaining(budget.id), { spent: 800, remaining: 200 });
    const refund = await api.request('POST', '/simulator/refunds', { body: { cardId: b.id, amount: 50 } });
    assert.equal(refund.status, 201, refund.text);
    assert.deepEqual(await spentAndRemaining(budget.id), { spent: 750, remaining: 250 });
    assert.equal((await balanceOf(api, account.id)).available, before.available - 750);
  });

  test('the budget account\'s balance binds too, and a closed budget declines', async () => {
    const account = await createAccount(api);
    const drained = await api.request('POST', '/transfers', { body: { fromAccountId: account.id, toAccountId: (await createAccount(api)).id, amount: (await balanceOf(api, account.id)).available - 300, currency: 'USD' } });
    assert.equal(drained.status, 201, drained.text);
    const budget = await createBudget(api, account.id, { limit: { amount: 1_000, interval: 'daily' } });
    const card = await budgetCard(api, budget, await createProgram(api));
    assert.equal((await authorize(api, card.id, 301)).body.data.declineReason, 'insufficient_funds');
    await approved(api, card.id, 300);
    assert.equal((await api.request('POST', `/budgets/${budget.id}/close`)).status, 200);
    assert.equal((await authorize(api, card.id, 1)).body.data.declineReason, 'budget_closed');
  });
});

describe('expiry sweeper', () => {
  test('releases holds after holdTtlHours, once; a capture after expiry still succeeds', async () => {
    const { card, program } = await fundedCard(api, 1_000, { program: { holdTtlHours: 2 } });
    const early = await approved(api, card.id, 300);
    clock.advance(HOUR_MS);
    const later = await approved(api, card.id, 200);
    assert.equal(await sweepExpiredHolds(api.app.ctx, api.organizationId), 0, 'nothing is due yet');
    clock.advance(HOUR_MS + 1);
    assert.equal(await sweepExpiredHolds(api.app.ctx, api.organizationId), 1);
    assert.equal(await sweepExpiredHolds(api.app.ctx, api.organizationId), 0, 'never twice');
    const expired = (await api.request('GET', `/authorizations/${early.id}`)).body.data;
    assert.equal(expired.status, 'expired');
    assert.equal(expired.history.at(-1).kind, 'expiry');
    assert.equal((await api.request('GET', `/authorizations/${later.id}`)).body.data.status, 'pending');
    assert.deepEqual(await cardBalance(api, card.id), { available: 800, pending: 200 });
    const events = await api.request('GET', `/events?resourceId=${early.id}`);
    assert.equal(events.body.data[0].type, 'authorization.expired');
    // A capture after expiry is forced from the card's balance.
    const late = await step(api, early.id, 'capture', { amount: 300 });
    assert.equal(late.status, 200, late.text);
    assert.deepEqual(await cardBalance(api, card.id), { available: 500, pending: 200 });
    clock.advance(HOUR_MS);
    assert.equal(await sweepExpiredHolds(api.app.ctx, api.organizationId), 1);
    assert.deepEqual(await cardBalance(api, card.id), { available: 700, pending: 0 });
    assert.equal(program.holdTtlHours, 2);
  });

  test('an expired hold on a cancelled card returns to the debit account', async () => {
    const { card, account } = await fundedCard(api, 1_000, { program: { holdTtlHours: 1 } });
    await approved(api, card.id, 400);
    assert.equal((await api.request('POST', `/cards/${card.id}/cancel`, { body: {} })).status, 200);
    const before = (await balanceOf(api, account.id)).available;
    clock.advance(HOUR_MS);
    assert.ok(await sweepExpiredHolds(api.app.ctx, api.organizationId) >= 1);
    assert.equal((await balanceOf(api, account.id)).available, before + 400);
    assert.deepEqual(await cardBalance(api, card.id), { available: 0, pending: 0 });
  });

  test('more than one batch: the sweeper keeps going until nothing is due', async () => {
    const { card } = await fundedCard(api, 10_000, { program: { holdTtlHours: 1 } });
    for (let i = 0; i < 25; i++) await approved(api, card.id, 10);
    clock.advance(HOUR_MS);
    let handled = 0;
    for (let run = 0; run < 5; run++) handled += await sweepExpiredHolds(api.app.ctx, api.organizationId);
    assert.equal(handled, 25);
    assert.deepEqual(await cardBalance(api, card.id), { available: 10_000, pending: 0 });
  });
});
