// Budgets: a spending limit per interval over one funding account, shared by the budget's cards.
// A budget card has no balance of its own: its authorizations hold funds on the budget's account,
// so the budget's figures (spent, remaining) are read from those ledger transfers, never stored.
import type { Ctx } from '../../platform/context.ts';
import type { Queryable } from '../../platform/db.ts';
import { ApiError, notFound, unprocessable } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { MAX_COUNTER, normalizeCurrency } from '../../platform/money.ts';
import type { ListQuery } from '../../platform/pagination.ts';
import * as accounts from '../accounts/accounts.service.ts';
import { changedAttributes, recordEvent } from '../events/events.service.ts';
import { periodAt } from './budget-periods.ts';
import * as repo from './budgets.repo.ts';
import type { Budget, CreateBudgetBody, UpdateBudgetBody } from './budgets.schemas.ts';

export type BudgetRow = repo.BudgetView;

export interface BudgetFigures {
  spent: number;
  remaining: number;
  period: { start: string; end: string | null } | null;
}

/** The figures of a loaded budget at `now` (see budgetFigures). */
export async function figuresOf(db: Queryable, budget: BudgetRow, now: Date): Promise<BudgetFigures> {
  const period = periodAt(budget.limit_interval, now, budget.created_at);
  // A per_transaction budget caps each transaction on its own: nothing accumulates.
  if (!period) return { spent: 0, remaining: budget.limit_amount, period: null };
  const spent = await repo.spendBetween(db, budget, period.start, now, MAX_COUNTER);
  return {
    spent,
    remaining: Math.max(0, budget.limit_amount - spent),
    period: { start: period.start.toISOString(), end: period.end ? period.end.toISOString() : null },
  };
}

async function present(db: Queryable, row: BudgetRow, now: Date): Promise<Budget> {
  return {
    id: row.id, accountId: row.account_id, name: row.name, currency: row.currency,
    limit: { amount: row.limit_amount, interval: row.limit_interval }, status: row.status,
    ...(await figuresOf(db, row, now)),
    createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString(),
    closedAt: row.closed_at ? row.closed_at.toISOString() : null,
  };
}

async function load(db: Queryable, organizationId: string, id: string, lock?: 'share' | 'update') {
  const row = await repo.findBudget(db, organizationId, id, lock);
  if (!row) throw notFound('Budget');
  return row;
}

export function createBudget(ctx: Ctx, organizationId: string, body: CreateBudgetBody) {
  const currency = normalizeCurrency(body.currency);
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    // The account stays share-locked until commit: it cannot be frozen or closed under us.
    const account = await accounts.requireDebitable(tx, organizationId, body.accountId, currency, 'accountId');
    const id = newId('bud', now.getTime());
    await repo.insertBudget(tx, {
      id, organization_id: organizationId, account_id: account.id, name: body.name, currency,
      limit_amount: body.limit.amount, limit_interval: body.limit.interval, status: 'active',
      created_at: now, updated_at: now, closed_at: null,
    });
    const budget = await present(tx, await load(tx, organizationId, id), now);
    await recordEvent(tx, { organizationId, type: 'budget.created', resourceId: id, data: budget, at: now });
    return budget;
  });
}

export async function getBudget(ctx: Ctx, organizationId: string, id: string) {
  return present(ctx.db, await load(ctx.db, organizationId, id), ctx.clock.now());
}

export async function listBudgets(ctx: Ctx, organizationId: string, query: ListQuery & { accountId?: string; status?: string; currency?: string }) {
  const now = ctx.clock.now();
  const page = await repo.listBudgets(ctx.db, organizationId, { ...query, currency: query.currency?.toUpperCase() });
  const data: Budget[] = [];
  for (const row of page.rows) data.push(await present(ctx.db, row, now));
  return { data, meta: page.meta };
}

/** Locks the budget, refuses a closed one, applies the change and records the event. */
function changeBudget(ctx: Ctx, organizationId: string, id: string, type: 'budget.updated' | 'budget.closed', changes: (now: Date) => Parameters<typeof repo.updateBudget>[3]) {
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const row = await load(tx, organizationId, id, 'update');
    if (row.status === 'closed') {
      throw new ApiError(409, 'budget_closed', type === 'budget.closed' ? 'The budget is already closed.' : 'A closed budget cannot change.');
    }
    const before = await present(tx, row, now);
    await repo.updateBudget(tx, organizationId, id, changes(now), now);
    const after = await present(tx, await load(tx, organizationId, id), now);
    await recordEvent(tx, {
      organizationId, type, resourceId: id, data: after,
      previousAttributes: changedAttributes(before, { ...after, updatedAt: before.updatedAt }), at: now,
    });
    return after;
  });
}

export function updateBudget(ctx: Ctx, organizationId: string, id: string, body: UpdateBudgetBody) {
  return changeBudget(ctx, organizationId, id, 'budget.updated', () => ({
    name: body.name, limit_amount: body.limit?.amount, limit_interval: body.limit?.interval,
  }));
}

/** A closed budget stays readable; its cards can no longer be issued or spend (budget_closed). */
export function closeBudget(ctx: Ctx, organizationId: string, id: string) {
  return changeBudget(ctx, organizationId, id, 'budget.closed', (now) => ({ status: 'closed', closed_at: now }));
}

// ---------------------------------------------------------------------------------------------
// For the cards and authorizations modules.

/**
 * The budget a card is issued against (or spends from), checked and locked until commit: FOR
 * SHARE by default (issuance cannot interleave with a close), FOR UPDATE with `lock: 'update'`
 * (spend checks against `remaining` run one at a time per budget).
 */
export async function requireBudgetForCard(
  tx: Queryable, organizationId: string, budgetId: string,
  expected: { currency: string; debitAccountId?: string; lock?: 'share' | 'update' },
  field = 'budgetId',
) {
  const row = await repo.findBudget(tx, organizationId, budgetId, expected.lock ?? 'share');
  if (!row) throw unprocessable('budget_not_found', `Budget ${budgetId} not found.`, field);
  if (row.status === 'closed') throw unprocessable('budget_closed', `Budget ${budgetId} is closed.`, field);
  if (row.currency !== expected.currency) {
    throw unprocessable('currency_mismatch', `The budget is in ${row.currency}, not ${expected.currency}.`, 'currency');
  }
  if (expected.debitAccountId !== undefined && expected.debitAccountId !== row.account_id) {
    throw unprocessable('budget_account_mismatch', `The budget spends from account ${row.account_id}, not ${expected.debitAccountId}.`, 'debitAccountId');
  }
  return row;
}

/** spent, remaining and the current period of a budget at `now` (inside a transaction or not). */
export async function budgetFigures(db: Queryable, organizationId: string, budgetId: string, now: Date) {
  return figuresOf(db, await load(db, organizationId, budgetId), now);
}

/** The ids of the cards issued against a budget. */
export function cardIdsOfBudget(db: Queryable, organizationId: string, budgetId: string) {
  return repo.cardIdsOfBudget(db, organizationId, budgetId);
}
