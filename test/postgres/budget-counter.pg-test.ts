// The budget spend counter on PostgreSQL (issue 10, scenario b): authorizations on one budget no
// longer queue on the budget row, they race on its period's counter row. Racing full and partial
// approvals, reversals, captures, refunds and a limit change, the budget is never exceeded and the
// counter stays equal to the ledger (GET /budgets/:id reads spendBetween).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { countersOf } from '../../src/modules/budgets/budgets.service.ts';
import type { Harness } from '../support/api.ts';
import { createProgram } from '../support/fixtures.ts';
import { budgetCard, createBudget } from '../budgets/helpers.ts';
import { ONLINE, authorize } from '../authorizations/support.ts';
import { POSTGRES_ONLY, accountHolding, assertNoServerErrors, balanceOf, listAll, tally, useConcurrencyHarness } from './support.ts';

const FUNDS = 1_000_000;
const CARDS = 20;

describe('a budget\'s counter under racing spenders', { skip: POSTGRES_ONLY }, () => {
  let api: Harness;
  useConcurrencyHarness((started) => { api = started; });

  async function figures(budgetId: string) {
    const res = await api.request('GET', `/budgets/${budgetId}`);
    assert.equal(res.status, 200, res.text);
    return res.body.data as { spent: number; remaining: number; limit: { amount: number } };
  }

  /** What the budget's cards hold and captured (their authorizations), and the counter's net. */
  async function outcome(budgetId: string, cardIds: string[]) {
    let held = 0;
    let captured = 0;
    for (const id of cardIds) {
      for (const a of await listAll(api, `/authorizations?cardId=${id}`)) {
        held += a.heldAmount;
        captured += a.capturedAmount;
      }
    }
    const rows = await countersOf(api.app.ctx.db, budgetId);
    assert.equal(rows.length, 1, 'one period');
    return { held, captured, counted: Math.max(0, rows[0].spent - rows[0].refunded), refunded: rows[0].refunded };
  }

  test(`${CARDS} cards racing full and partial approvals, reversals, captures, refunds and a limit change: never over the limit`, async (t) => {
    const limit = 5_000;
    const account = await accountHolding(api, FUNDS);
    const budget = await createBudget(api, account.id, { limit: { amount: limit, interval: 'monthly' } });
    const program = await createProgram(api);
    const cards: Array<{ id: string }> = [];
    for (let i = 0; i < CARDS; i++) cards.push(await budgetCard(api, budget, program));

    // Round 1: 150 requests of 70 (every third accepts less) want 10,500 of 5,000.
    const first = await Promise.all(Array.from({ length: 150 }, (_, i) =>
      authorize(api, cards[i % CARDS].id, 70, { ...ONLINE, partialApprovalSupported: i % 3 === 0 })));
    t.diagnostic(`round 1: ${JSON.stringify(tally(first))}`);
    assertNoServerErrors(first);
    assert.ok(first.every((r) => r.status === 201));
    const approved = first.filter((r) => r.body.data.approved).map((r) => r.body.data);
    for (const r of first.filter((x) => !x.body.data.approved)) assert.equal(r.body.data.declineReason, 'budget_exceeded');
    // Partial approvals take the last crumbs: the limit is reached exactly, never passed.
    assert.equal(approved.reduce((sum, a) => sum + a.heldAmount, 0), limit);
    assert.deepEqual(await figures(budget.id).then((f) => [f.spent, f.remaining]), [limit, 0]);

    // Round 2, all at once: reversals and captures give some back, refunds more, the limit rises
    // halfway through, and 100 more requests compete for whatever that frees.
    const reversed = approved.slice(0, 10);
    const captured = approved.slice(10, 20);
    const round2 = await Promise.all([
      ...reversed.map((a) => api.request('POST', `/simulator/authorizations/${a.id}/reverse`, { body: {} })),
      ...captured.map((a) => api.request('POST', `/simulator/authorizations/${a.id}/capture`, { body: { amount: Math.max(1, a.heldAmount - 20) } })),
      ...cards.slice(0, 5).map((c) => api.request('POST', '/simulator/refunds', { body: { cardId: c.id, amount: 30 } })),
      api.request('PATCH', `/budgets/${budget.id}`, { body: { limit: { amount: limit + 1_000, interval: 'monthly' } } }),
      ...Array.from({ length: 100 }, (_, i) => authorize(api, cards[i % CARDS].id, 50, { ...ONLINE, partialApprovalSupported: i % 4 === 0 })),
    ]);
    t.diagnostic(`round 2: ${JSON.stringify(tally(round2))}`);
    assertNoServerErrors(round2);
    for (const r of round2) assert.ok(r.status === 200 || r.status === 201, r.text);

    const shown = await figures(budget.id);
    assert.equal(shown.limit.amount, limit + 1_000);
    const { held, captured: capturedTotal, counted, refunded } = await outcome(budget.id, cards.map((c) => c.id));
    assert.equal(refunded, 5 * 30);
    // The counter is the ledger's figure, and the figure is what the cards hold and captured less refunds.
    assert.equal(counted, shown.spent);
    assert.equal(shown.spent, held + capturedTotal - refunded);
    assert.ok(shown.spent <= limit + 1_000, `${shown.spent} spent of ${limit + 1_000}`);
    assert.equal((await balanceOf(api, account.id)).available, FUNDS - held - capturedTotal + refunded);
    await api.checkLedger();
  });
});
