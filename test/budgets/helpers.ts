// Budget fixtures, and the ledger transfers that authorizations will write for budget cards
// (issue 4), made directly through the ledger service so that the figures can be proved now.
import assert from 'node:assert/strict';
import type { Queryable } from '../../src/platform/db.ts';
import * as ledger from '../../src/modules/ledger/ledger.service.ts';
import type { Harness } from '../support/api.ts';
import { createAccount, createProgram } from '../support/fixtures.ts';

export async function createBudget(api: Harness, accountId: string, overrides: Record<string, unknown> = {}, key?: string) {
  const res = await api.request('POST', '/budgets', {
    key,
    body: { accountId, name: 'Marketing team', currency: 'USD', limit: { amount: 10_000, interval: 'monthly' }, ...overrides },
  });
  assert.equal(res.status, 201, res.text);
  return res.body.data;
}

/** A card of `budget`, issued through POST /cards with budgetId (it spends from the budget's account). */
export async function budgetCard(api: Harness, budget: { id: string; accountId: string }, program: { id: string }) {
  const res = await api.request('POST', '/cards', {
    body: { budgetId: budget.id, firstName: 'Ada', lastName: 'Lovelace', type: 'virtual', currency: 'USD', typeId: program.id },
  });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.body.data.budgetId, budget.id);
  assert.equal(res.body.data.debitAccountId, budget.accountId);
  return res.body.data as { id: string };
}

/** A new account with a monthly budget of `limit` on it, and two cards of that budget. */
export async function monthlyBudgetWithTwoCards(api: Harness, limit: number) {
  const account = await createAccount(api);
  const budget = await createBudget(api, account.id, { limit: { amount: limit, interval: 'monthly' } });
  const program = await createProgram(api);
  const [a, b] = [await budgetCard(api, budget, program), await budgetCard(api, budget, program)];
  return { account, budget, program, a, b };
}

export async function accountLedgerId(api: Harness, accountId: string) {
  const [row] = await api.app.ctx.db.query<{ ledger_account_id: string }>('SELECT ledger_account_id FROM accounts WHERE id = $1', [accountId]);
  return row.ledger_account_id;
}

/** Writes the ledger transfers of a card's spend on its budget's account, as authorizations will. */
export function cardSpend(api: Harness, card: { id: string }, accountLedger: string, currency = 'USD') {
  const organizationId = api.organizationId;
  const run = <T>(fn: (tx: Queryable) => Promise<T>) => api.app.ctx.db.transaction(fn);
  const settlement = (tx: Queryable, at: Date) => ledger.houseAccount(tx, organizationId, ledger.HOUSE.settlement, currency, at);
  const move = (code: string, kind: 'single' | 'pending', amount: number, at: string, direction: 'debit' | 'credit' = 'debit') => run(async (tx) => {
    const house = await settlement(tx, new Date(at));
    const [debitAccountId, creditAccountId] = direction === 'debit' ? [accountLedger, house] : [house, accountLedger];
    return ledger.transfer(tx, {
      organizationId, kind, debitAccountId, creditAccountId, amount, currency, code,
      referenceType: 'card', referenceId: card.id, at: new Date(at),
    });
  });
  return {
    /** An authorization hold (pending transfer). */
    hold: (amount: number, at: string) => move('authorization', 'pending', amount, at),
    /** A posted authorization (e.g. the part of a capture beyond its hold). */
    capture: (amount: number, at: string) => move('authorization', 'single', amount, at),
    forceCapture: (amount: number, at: string) => move('force_capture', 'single', amount, at),
    refund: (amount: number, at: string) => move('refund', 'single', amount, at, 'credit'),
    /** Any other transfer of the card on the account (must not count). */
    other: (code: string, amount: number, at: string) => move(code, 'single', amount, at),
    resolve: (hold: { id: string }, kind: 'post' | 'void' | 'expire', at: string, amount?: number) =>
      run((tx) => ledger.resolvePending(tx, organizationId, hold.id, kind, new Date(at), amount)),
  };
}

/** GET /budgets/:id's figures: spent, remaining and the current period. */
export async function budgetFigures(api: Harness, budgetId: string) {
  const res = await api.request('GET', `/budgets/${budgetId}`);
  assert.equal(res.status, 200, res.text);
  const { spent, remaining, period } = res.body.data as { spent: number; remaining: number; period: { start: string } | null };
  return { spent, remaining, period };
}
