// The figures of budgets (spent, remaining, period) from the ledger transfers that authorizations
// write for budget cards: holds at their held amount while pending, at their posted amount once
// captured, 0 once voided or expired, force captures in full, refunds subtracted; each counted in
// the UTC period it happened in, tested on both sides of every boundary with the app clock.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/platform/clock.ts';
import { budgetFigures, requireBudgetForCard } from '../../src/modules/budgets/budgets.service.ts';
import { startHarness, type Harness } from '../support/api.ts';
import { createAccount, createProgram } from '../support/fixtures.ts';
import { accountLedgerId, budgetCard, cardSpend, createBudget } from './helpers.ts';

const clock = new ManualClock(new Date('2024-01-15T09:00:00.000Z'));
const setClock = (iso: string) => clock.advance(Date.parse(iso) - clock.now().getTime());

let api: Harness;
let account: { id: string };
let accountLedger: string;
let program: { id: string };
before(async () => {
  api = await startHarness({ clock });
  account = await createAccount(api);
  accountLedger = await accountLedgerId(api, account.id);
  program = await createProgram(api);
});
after(async () => { await api.checkLedger(); await api.close(); });

/** The budget's figures over HTTP at the instant `iso` of the app clock. */
async function figuresAt(budget: { id: string }, iso: string) {
  setClock(iso);
  const res = await api.request('GET', `/budgets/${budget.id}`);
  assert.equal(res.status, 200, res.text);
  const { spent, remaining, period } = res.body.data;
  return { spent, remaining, period };
}

/** A budget with one card, created at `iso`. */
async function budgetWithCard(iso: string, limit: { amount: number; interval: string }) {
  setClock(iso);
  const budget = await createBudget(api, account.id, { limit });
  const card = await budgetCard(api, budget, program);
  return { budget, card, spend: cardSpend(api, card, accountLedger) };
}

describe('budget figures', () => {
  test('monthly: holds, captures, voids, expiries and refunds, around the leap-day month end', async () => {
    const { budget, card, spend } = await budgetWithCard('2024-01-15T09:00:00.000Z', { amount: 10_000, interval: 'monthly' });
    await spend.forceCapture(700, '2024-01-31T23:59:59.999Z');
    await spend.hold(1_000, '2024-02-01T00:00:00.000Z'); // stays pending
    const captured = await spend.hold(2_000, '2024-02-10T00:00:00.000Z');
    await spend.resolve(captured, 'post', '2024-02-11T00:00:00.000Z', 1_500);
    const voided = await spend.hold(3_000, '2024-02-12T00:00:00.000Z');
    await spend.resolve(voided, 'void', '2024-02-13T00:00:00.000Z');
    const expired = await spend.hold(400, '2024-02-14T00:00:00.000Z');
    await spend.resolve(expired, 'expire', '2024-02-20T00:00:00.000Z');
    await spend.refund(250, '2024-02-15T00:00:00.000Z');
    await spend.capture(100, '2024-02-29T23:59:59.999Z');
    await spend.hold(5_000, '2024-03-01T00:00:00.000Z');
    // Transfers of the card that are not spend, and spend of a card outside the budget, never count.
    await spend.other('card_funding', 999, '2024-02-16T00:00:00.000Z');
    const outsider = cardSpend(api, { id: (await budgetCard(api, await createBudget(api, account.id), program)).id }, accountLedger);
    await outsider.hold(777, '2024-02-16T00:00:00.000Z');
    assert.ok(card.id);

    const february = { start: '2024-02-01T00:00:00.000Z', end: '2024-03-01T00:00:00.000Z' };
    assert.deepEqual(await figuresAt(budget, '2024-01-31T23:59:59.999Z'), {
      spent: 700, remaining: 9_300, period: { start: '2024-01-01T00:00:00.000Z', end: '2024-02-01T00:00:00.000Z' },
    });
    assert.deepEqual(await figuresAt(budget, '2024-02-01T00:00:00.000Z'), { spent: 1_000, remaining: 9_000, period: february });
    // As of Feb 10 noon the 2,000 hold is still pending: it counts in full until it is captured.
    assert.deepEqual(await figuresAt(budget, '2024-02-10T12:00:00.000Z'), { spent: 3_000, remaining: 7_000, period: february });
    // 1,000 pending + 1,500 captured + 0 voided + 0 expired − 250 refunded + 100 captured on the leap day.
    assert.deepEqual(await figuresAt(budget, '2024-02-29T23:59:59.999Z'), { spent: 2_350, remaining: 7_650, period: february });
    assert.deepEqual(await figuresAt(budget, '2024-03-01T00:00:00.000Z'), {
      spent: 5_000, remaining: 5_000, period: { start: '2024-03-01T00:00:00.000Z', end: '2024-04-01T00:00:00.000Z' },
    });

    // The list shows the same figures, and so does the function the authorizations will call.
    const list = await api.request('GET', `/budgets?accountId=${account.id}&limit=100`);
    assert.equal(list.body.data.find((b: any) => b.id === budget.id).spent, 5_000);
    assert.deepEqual(await budgetFigures(api.app.ctx.db, api.organizationId, budget.id, new Date('2024-02-29T23:59:59.999Z')), {
      spent: 2_350, remaining: 7_650, period: february,
    });
  });

  test('a hold counts in the period it was placed in, even when it is captured in the next one', async () => {
    const { budget, spend } = await budgetWithCard('2024-03-20T00:00:00.000Z', { amount: 10_000, interval: 'monthly' });
    const hold = await spend.hold(4_000, '2024-03-31T23:00:00.000Z');
    await spend.resolve(hold, 'post', '2024-04-02T00:00:00.000Z', 3_000);
    assert.equal((await figuresAt(budget, '2024-03-31T23:59:59.999Z')).spent, 4_000);
    // The capture on April 2nd settles a March hold: April's spend stays untouched.
    assert.equal((await figuresAt(budget, '2024-04-02T12:00:00.000Z')).spent, 0);
  });

  test('daily: UTC midnight splits the days; overspend (a capture beyond the limit) leaves 0 remaining', async () => {
    const { budget, spend } = await budgetWithCard('2024-04-10T08:00:00.000Z', { amount: 1_000, interval: 'daily' });
    await spend.hold(300, '2024-04-10T23:59:59.999Z');
    await spend.hold(200, '2024-04-11T00:00:00.000Z');
    assert.deepEqual(await figuresAt(budget, '2024-04-10T23:59:59.999Z'), {
      spent: 300, remaining: 700, period: { start: '2024-04-10T00:00:00.000Z', end: '2024-04-11T00:00:00.000Z' },
    });
    assert.deepEqual(await figuresAt(budget, '2024-04-11T00:00:00.000Z'), {
      spent: 200, remaining: 800, period: { start: '2024-04-11T00:00:00.000Z', end: '2024-04-12T00:00:00.000Z' },
    });
    await spend.forceCapture(1_500, '2024-04-11T10:00:00.000Z');
    assert.deepEqual(await figuresAt(budget, '2024-04-11T10:00:00.000Z'), {
      spent: 1_700, remaining: 0, period: { start: '2024-04-11T00:00:00.000Z', end: '2024-04-12T00:00:00.000Z' },
    });
  });

  test('weekly: the week runs Monday 00:00 UTC to the next Monday; Sunday night belongs to the old week', async () => {
    // 2024-05-12 is a Sunday, 2024-05-13 a Monday.
    const { budget, spend } = await budgetWithCard('2024-05-06T00:00:00.000Z', { amount: 5_000, interval: 'weekly' });
    await spend.capture(1_000, '2024-05-06T00:00:00.000Z');
    await spend.capture(400, '2024-05-12T23:59:59.999Z');
    await spend.capture(600, '2024-05-13T00:00:00.000Z');
    assert.deepEqual(await figuresAt(budget, '2024-05-12T23:59:59.999Z'), {
      spent: 1_400, remaining: 3_600, period: { start: '2024-05-06T00:00:00.000Z', end: '2024-05-13T00:00:00.000Z' },
    });
    assert.deepEqual(await figuresAt(budget, '2024-05-19T23:59:59.999Z'), {
      spent: 600, remaining: 4_400, period: { start: '2024-05-13T00:00:00.000Z', end: '2024-05-20T00:00:00.000Z' },
    });
  });

  test('refunds larger than this period\'s spend (a purchase of the previous period) do not go below 0', async () => {
    const { budget, spend } = await budgetWithCard('2024-05-20T00:00:00.000Z', { amount: 5_000, interval: 'weekly' });
    await spend.capture(2_000, '2024-05-24T00:00:00.000Z');
    await spend.refund(2_000, '2024-05-28T00:00:00.000Z');
    await spend.capture(300, '2024-05-28T01:00:00.000Z');
    assert.deepEqual(await figuresAt(budget, '2024-05-26T00:00:00.000Z'), {
      spent: 2_000, remaining: 3_000, period: { start: '2024-05-20T00:00:00.000Z', end: '2024-05-27T00:00:00.000Z' },
    });
    assert.deepEqual(await figuresAt(budget, '2024-05-28T02:00:00.000Z'), {
      spent: 0, remaining: 5_000, period: { start: '2024-05-27T00:00:00.000Z', end: '2024-06-03T00:00:00.000Z' },
    });
  });

  test('yearly: New Year 00:00 UTC starts a new year', async () => {
    const { budget, spend } = await budgetWithCard('2024-12-01T00:00:00.000Z', { amount: 100_000, interval: 'yearly' });
    await spend.capture(1_234, '2024-12-31T23:59:59.999Z');
    await spend.hold(4_321, '2025-01-01T00:00:00.000Z');
    assert.deepEqual(await figuresAt(budget, '2024-12-31T23:59:59.999Z'), {
      spent: 1_234, remaining: 98_766, period: { start: '2024-01-01T00:00:00.000Z', end: '2025-01-01T00:00:00.000Z' },
    });
    assert.deepEqual(await figuresAt(budget, '2025-01-01T00:00:00.000Z'), {
      spent: 4_321, remaining: 95_679, period: { start: '2025-01-01T00:00:00.000Z', end: '2026-01-01T00:00:00.000Z' },
    });
  });

  test('all_time: everything since creation, across years, with no end', async () => {
    const { budget, spend } = await budgetWithCard('2025-02-01T12:00:00.000Z', { amount: 10_000, interval: 'all_time' });
    await spend.capture(1_000, '2025-02-01T12:00:00.000Z');
    await spend.capture(2_000, '2025-12-31T23:59:59.999Z');
    const hold = await spend.hold(3_000, '2026-01-01T00:00:00.000Z');
    await spend.resolve(hold, 'void', '2026-01-02T00:00:00.000Z');
    await spend.forceCapture(500, '2026-03-01T00:00:00.000Z');
    assert.deepEqual(await figuresAt(budget, '2026-03-01T00:00:00.000Z'), {
      spent: 3_500, remaining: 6_500, period: { start: '2025-02-01T12:00:00.000Z', end: null },
    });
  });

  test('per_transaction: a cap for each transaction, nothing accumulates', async () => {
    const { budget, spend } = await budgetWithCard('2026-04-01T00:00:00.000Z', { amount: 2_500, interval: 'per_transaction' });
    await spend.capture(2_000, '2026-04-01T00:00:01.000Z');
    await spend.hold(2_400, '2026-04-01T00:00:02.000Z');
    assert.deepEqual(await figuresAt(budget, '2026-04-01T00:00:03.000Z'), { spent: 0, remaining: 2_500, period: null });
  });

  test('changing the limit recomputes the figures at once; closing keeps them readable', async () => {
    const { budget, spend } = await budgetWithCard('2026-05-04T00:00:00.000Z', { amount: 10_000, interval: 'monthly' });
    await spend.capture(3_000, '2026-05-05T00:00:00.000Z');
    setClock('2026-05-06T00:00:00.000Z');
    const daily = await api.request('PATCH', `/budgets/${budget.id}`, { body: { limit: { amount: 2_000, interval: 'daily' } } });
    assert.deepEqual([daily.body.data.spent, daily.body.data.remaining], [0, 2_000]);
    const monthly = await api.request('PATCH', `/budgets/${budget.id}`, { body: { limit: { amount: 2_000, interval: 'monthly' } } });
    assert.deepEqual([monthly.body.data.spent, monthly.body.data.remaining], [3_000, 0]);
    const closed = await api.request('POST', `/budgets/${budget.id}/close`);
    assert.deepEqual([closed.body.data.status, closed.body.data.spent, closed.body.data.closedAt], ['closed', 3_000, '2026-05-06T00:00:00.000Z']);
  });
});

describe('the service functions for the cards module', () => {
  const inTx = <T>(fn: (tx: any) => Promise<T>) => api.app.ctx.db.transaction(fn);
  const rejectsWith = async (promise: Promise<unknown>, status: number, code: string, field?: string) => {
    await assert.rejects(promise, (error: any) => {
      assert.equal(error.statusCode, status);
      assert.equal(error.code, code);
      if (field) assert.equal(error.details[0].field, field);
      return true;
    });
  };

  test('requireBudgetForCard returns an active budget of the org and refuses the rest with 422 codes', async () => {
    setClock('2026-06-01T00:00:00.000Z');
    const budget = await createBudget(api, account.id);
    const row = await inTx((tx) => requireBudgetForCard(tx, api.organizationId, budget.id, { currency: 'USD', debitAccountId: account.id }));
    assert.deepEqual([row.id, row.account_id, row.status, row.limit_amount, row.limit_interval], [budget.id, account.id, 'active', 10_000, 'monthly']);
    const withoutAccount = await inTx((tx) => requireBudgetForCard(tx, api.organizationId, budget.id, { currency: 'USD', lock: 'update' }));
    assert.equal(withoutAccount.id, budget.id);

    const other = await api.otherOrganization();
    const otherAccount = await createAccount(api, {}, other.apiKey);
    const theirs = await createBudget(api, otherAccount.id, {}, other.apiKey);
    const closed = await createBudget(api, account.id);
    assert.equal((await api.request('POST', `/budgets/${closed.id}/close`)).status, 200);
    const secondAccount = await createAccount(api);

    await rejectsWith(inTx((tx) => requireBudgetForCard(tx, api.organizationId, 'bud_01jd0000000000000000000000', { currency: 'USD' })), 422, 'budget_not_found', 'budgetId');
    await rejectsWith(inTx((tx) => requireBudgetForCard(tx, api.organizationId, theirs.id, { currency: 'USD' })), 422, 'budget_not_found', 'budgetId');
    await rejectsWith(inTx((tx) => requireBudgetForCard(tx, api.organizationId, closed.id, { currency: 'USD' })), 422, 'budget_closed', 'budgetId');
    await rejectsWith(inTx((tx) => requireBudgetForCard(tx, api.organizationId, budget.id, { currency: 'EUR' })), 422, 'currency_mismatch', 'currency');
    await rejectsWith(inTx((tx) => requireBudgetForCard(tx, api.organizationId, budget.id, { currency: 'USD', debitAccountId: secondAccount.id })), 422, 'budget_account_mismatch', 'debitAccountId');
  });

  test('budgetFigures answers for the organization\'s budgets only', async () => {
    const other = await api.otherOrganization();
    const theirs = await createBudget(api, (await createAccount(api, {}, other.apiKey)).id, {}, other.apiKey);
    await rejectsWith(budgetFigures(api.app.ctx.db, api.organizationId, theirs.id, clock.now()), 404, 'not_found');
  });
});
