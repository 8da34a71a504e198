// The budget's spend counter (budget_spend, migration 021): authorizations decide on it, so after
// every step of a mixed sequence through the API (holds, increments, partial and forced captures,
// partial and full reversals, expiry, force captures, refunds, a period boundary, a limit change)
// it must equal what budgets.repo.spendBetween reads from the ledger: the current period's net
// equals GET /budgets/:id's spent, and every period's row equals the row remade from the ledger.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/platform/clock.ts';
import { countersOf } from '../../src/modules/budgets/budgets.service.ts';
import { ensureCounter } from '../../src/modules/budgets/budgets.repo.ts';
import { periodAt } from '../../src/modules/budgets/budget-periods.ts';
import { startHarness, type Harness } from '../support/api.ts';
import { balanceOf, createAccount, createProgram } from '../support/fixtures.ts';
import { approved, authorize, MERCHANT, step } from '../authorizations/support.ts';
import { budgetCard, budgetFigures, createBudget, monthlyBudgetWithTwoCards } from './helpers.ts';

const clock = new ManualClock(new Date('2026-05-30T12:00:00.000Z'));
const setClock = (iso: string) => clock.advance(Date.parse(iso) - clock.now().getTime());

let api: Harness;
before(async () => { api = await startHarness({ clock, config: { workers: false } }); });
after(async () => {
  try { await api.checkLedger(); } finally { await api.close(); }
});


const rowsOf = async (budgetId: string) => (await countersOf(api.app.ctx.db, budgetId))
  .map((r) => ({ period: r.period_start.toISOString(), spent: r.spent, refunded: r.refunded }));

/**
 * The counter equals the ledger: the current period's net is GET /budgets/:id's spent (read by
 * spendBetween), and every row equals the same row made again from the ledger's transfers.
 */
async function assertCounterExact(budgetId: string, expectedSpent: number) {
  const shown = await budgetFigures(api, budgetId);
  assert.equal(shown.spent, expectedSpent);
  const rows = await rowsOf(budgetId);
  // A period nothing happened in yet has no row: it is made on first use.
  const current = rows.find((r) => r.period === shown.period?.start) ?? { spent: 0, refunded: 0 };
  assert.equal(Math.max(0, current.spent - current.refunded), shown.spent, JSON.stringify(rows));
  const remade = await api.app.ctx.db.transaction(async (tx) => {
    await tx.query('DELETE FROM budget_spend WHERE budget_id = $1', [budgetId]);
    for (const row of rows) await ensureCounter(tx, api.organizationId, budgetId, new Date(row.period), null);
    return countersOf(tx, budgetId);
  });
  assert.deepEqual(remade.map((r) => ({ period: r.period_start.toISOString(), spent: r.spent, refunded: r.refunded })), rows);
  return rows;
}

const ok = (res: { status: number; text: string }, status = 200) => assert.equal(res.status, status, res.text);

describe('the budget spend counter', () => {
  test('follows holds, increments, captures, reversals, expiry, force captures and refunds, across a month end', async () => {
    const { account, budget, a, b } = await monthlyBudgetWithTwoCards(api, 10_000);
    const opening = (await balanceOf(api, account.id)).available;

    const first = await approved(api, a.id, 1_000);
    const second = await approved(api, b.id, 2_000);
    const third = await approved(api, a.id, 800);
    await assertCounterExact(budget.id, 3_800);
    ok(await step(api, first.id, 'increment', { amount: 200 }));
    ok(await step(api, second.id, 'capture', { amount: 1_500 }));
    ok(await step(api, third.id, 'reverse', { amount: 300 }));
    await assertCounterExact(budget.id, 1_200 + 1_500 + 500);
    const fourth = await approved(api, b.id, 400);
    ok(await step(api, fourth.id, 'expire'));
    ok(await api.request('POST', '/simulator/force-captures', { body: { cardId: a.id, amount: 700, merchant: MERCHANT } }), 201);
    ok(await api.request('POST', '/simulator/refunds', { body: { cardId: b.id, amount: 250 } }), 201);
    await assertCounterExact(budget.id, 1_200 + 1_500 + 500 + 700 - 250);

    // A budget made before migration 021 has no rows: the next spender makes them from the ledger.
    await api.app.ctx.db.query('DELETE FROM budget_spend WHERE budget_id = $1', [budget.id]);
    const fifth = await approved(api, b.id, 100);
    await assertCounterExact(budget.id, 3_650 + 100);

    // June: May's holds count in May whenever they resolve; what happens now counts in June.
    setClock('2026-06-01T00:00:00.000Z');
    await assertCounterExact(budget.id, 0);
    const june = await approved(api, a.id, 600);
    ok(await step(api, first.id, 'capture', { amount: 1_500 })); // 1,200 held in May, 300 forced now
    ok(await step(api, third.id, 'reverse')); // May's 500 released
    ok(await step(api, fifth.id, 'reverse', { amount: 40 })); // May's 100 voided, 60 held again now
    ok(await api.request('POST', '/simulator/refunds', { body: { cardId: a.id, amount: 100 } }), 201);
    const rows = await assertCounterExact(budget.id, 600 + 300 + 60 - 100);
    const may = rows.find((r) => r.period === '2026-05-01T00:00:00.000Z');
    assert.deepEqual(may, { period: '2026-05-01T00:00:00.000Z', spent: 1_200 + 1_500 + 0 + 0 + 700 + 0, refunded: 250 });

    // A lower limit applies at once (the rows are remade); partial approval takes what remains.
    ok(await api.request('PATCH', `/budgets/${budget.id}`, { body: { limit: { amount: 900, interval: 'monthly' } } }));
    const partial = await approved(api, b.id, 200, { partialApprovalSupported: true });
    assert.equal(partial.approvedAmount, 40);
    const over = await authorize(api, a.id, 1);
    assert.equal(over.body.data.declineReason, 'budget_exceeded', over.text);
    const partialOver = await authorize(api, a.id, 5, { partialApprovalSupported: true });
    assert.equal(partialOver.body.data.declineReason, 'budget_exceeded', partialOver.text);
    await assertCounterExact(budget.id, 900);
    ok(await step(api, june.id, 'capture', { amount: 250 }));
    await assertCounterExact(budget.id, 550);

    // Money moved exactly as counted: the account paid every capture and holds what is still held.
    const spentInAll = 1_500 + 700 - 250 + 1_500 - 100 + 250 + 60 + 40;
    assert.equal((await balanceOf(api, account.id)).available, opening - spentInAll);

    ok(await api.request('POST', `/budgets/${budget.id}/close`));
    const closed = await authorize(api, a.id, 1);
    assert.equal(closed.body.data.declineReason, 'budget_closed', closed.text);
  });

  test('a weekly budget counts Sunday night and Monday morning in different weeks, as periodAt does', async () => {
    setClock('2026-06-07T23:59:00.000Z'); // a Sunday
    const account = await createAccount(api);
    const budget = await createBudget(api, account.id, { limit: { amount: 1_000, interval: 'weekly' } });
    const card = await budgetCard(api, budget, await createProgram(api));
    await approved(api, card.id, 700);
    setClock('2026-06-08T00:01:00.000Z');
    await approved(api, card.id, 900);
    const rows = await assertCounterExact(budget.id, 900);
    const starts = ['2026-06-07T23:59:00.000Z', '2026-06-08T00:01:00.000Z']
      .map((iso) => periodAt('weekly', new Date(iso), new Date(iso))!.start.toISOString());
    assert.deepEqual(rows.map((r) => r.period), starts);
    assert.deepEqual(rows.map((r) => r.spent), [700, 900]);
  });

  test('an all_time budget counts from its creation; a per_transaction one keeps no rows', async () => {
    setClock('2026-06-10T08:00:00.000Z');
    const account = await createAccount(api);
    const program = await createProgram(api);
    const forever = await createBudget(api, account.id, { limit: { amount: 500, interval: 'all_time' } });
    const card = await budgetCard(api, forever, program);
    await approved(api, card.id, 300);
    setClock('2027-02-01T08:00:00.000Z');
    assert.equal((await authorize(api, card.id, 201)).body.data.declineReason, 'budget_exceeded');
    await approved(api, card.id, 200);
    assert.deepEqual((await assertCounterExact(forever.id, 500)).map((r) => r.period), ['2026-06-10T08:00:00.000Z']);

    const capped = await createBudget(api, account.id, { limit: { amount: 50, interval: 'per_transaction' } });
    const capCard = await budgetCard(api, capped, program);
    await approved(api, capCard.id, 50);
    assert.equal((await authorize(api, capCard.id, 51)).body.data.declineReason, 'budget_exceeded');
    assert.equal((await approved(api, capCard.id, 80, { partialApprovalSupported: true })).approvedAmount, 50);
    assert.deepEqual(await rowsOf(capped.id), []);
  });
});
