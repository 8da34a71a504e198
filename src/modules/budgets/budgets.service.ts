// Budgets: a spending limit per interval over one funding account, shared by the budget's cards.
// A budget card has no balance of its own: its authorizations hold funds on the budget's account,
// so the budget's figures (spent, remaining) are read from those ledger transfers. Spenders decide
// on a counter of each period's spend (budget_spend), which every path that moves the budget's
// spend keeps equal to those transfers in its own transaction (claimSpend, recordSpend).
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
    // Spenders racing on a counter row wait for this and find none; the next one remakes it.
    await repo.deleteCounters(tx, id);
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
 * SHARE by default (issuance cannot interleave with a close), FOR UPDATE with `lock: 'update'`,
 * not at all with `lock: 'none'` (a spender: claimSpend decides under the counter row's lock).
 */
export async function requireBudgetForCard(
  tx: Queryable, organizationId: string, budgetId: string,
  expected: { currency: string; debitAccountId?: string; lock?: 'share' | 'update' | 'none' },
  field = 'budgetId',
) {
  const lock = expected.lock ?? 'share';
  const row = await repo.findBudget(tx, organizationId, budgetId, lock === 'none' ? undefined : lock);
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

/** Why a budget refused a spender's amount (the authorization's decline reason). */
export type BudgetRefusal = 'budget_closed' | 'budget_exceeded';

/**
 * Makes the row of a period from the ledger (repo.ensureCounter) under the budget's shared
 * configuration: a change of the limit, interval or status waits for the spender, and the
 * spender's next statements see the configuration the row was made under.
 */
async function makeCounter(tx: Queryable, organizationId: string, budgetId: string, at: Date, holdId: string | null) {
  await repo.shareConfiguration(tx, organizationId, budgetId);
  await repo.ensureCounter(tx, organizationId, budgetId, at, holdId);
}

/**
 * Takes `amount` of the budget's remaining amount for a hold placed at `at`, in the spender's
 * transaction right before its hold (DESIGN §3: one guarded update of the period's counter; no
 * lock of the budget row, no sum). With `upTo` (partial approval) it takes what remains, if any.
 * Returns the amount granted, or the decline reason. The caller's hold must follow in the same
 * transaction: the counter already counts it.
 */
export async function claimSpend(
  tx: Queryable, organizationId: string, budgetId: string, amount: number, at: Date, upTo = false,
): Promise<number | BudgetRefusal> {
  const claim = upTo ? repo.claimUpTo : repo.claimAll;
  for (let attempt = 1; ; attempt++) {
    const row = await claim(tx, organizationId, budgetId, at, amount);
    if (!row) throw new Error(`budget ${budgetId} is missing`);
    if (row.status === 'closed') return 'budget_closed';
    // A per_transaction budget caps each transaction on its own: nothing to count.
    if (row.per_transaction) {
      const granted = upTo ? Math.min(amount, row.limit_amount) : amount <= row.limit_amount ? amount : 0;
      return granted > 0 ? granted : 'budget_exceeded';
    }
    if (row.granted !== null) return row.granted;
    // Short, or the period has no row yet. Once made (or found) under the shared configuration,
    // the row cannot go away before commit: the second answer is final.
    if (attempt > 1) return 'budget_exceeded';
    await makeCounter(tx, organizationId, budgetId, at, null);
  }
}

/**
 * claimSpend's guarded update as a gate of the spender's hold (ledger.transfer's `gate`): one
 * statement for both, so the counter row is held no longer than the funding account's row. When
 * the gate is closed (ledger.GateClosed) nothing was written: claimSpend then decides (and makes
 * the period's row if it was missing).
 */
export function spendGate(organizationId: string, budgetId: string, amount: number, at: Date) {
  return repo.claimAllGate(organizationId, budgetId, at, amount);
}

/** A change of a budget's spend: a hold resolved (`holdId`: it counts in its period) or a new transfer at `at`. */
export interface SpendChange {
  at: Date;
  holdId?: string | null;
  spent?: number;
  refunded?: number;
}

/**
 * Keeps the budget's counter equal to its transfers (budgets.repo.spendBetween's rules): called
 * by every path that places, posts, voids or expires a budget card's hold or moves its money
 * (capture, force capture, refund), in its transaction and BEFORE its ledger transfers, so that
 * every path takes the counter row before the funding account's row (no deadlock with claimSpend)
 * and a row made here from the ledger does not count the change twice. A zero change only locks
 * the row. A closed budget's counters are gone for good: nothing to keep.
 */
export async function recordSpend(tx: Queryable, organizationId: string, budgetId: string, change: SpendChange) {
  const full = { at: change.at, holdId: change.holdId ?? null, spent: change.spent ?? 0, refunded: change.refunded ?? 0 };
  for (let attempt = 1; ; attempt++) {
    const row = await repo.addToCounter(tx, organizationId, budgetId, full);
    if (!row || row.status === 'closed' || row.per_transaction || row.applied) return;
    if (attempt > 1) throw new Error(`budget ${budgetId}: the period's counter is missing after it was made`);
    await makeCounter(tx, organizationId, budgetId, full.at, full.holdId);
  }
}

/**
 * The remaining amount at `now` as a spender sees it before claiming (to pick its decline reason
 * in the order of API.md): the counter when the period has one, else the ledger's figures.
 */
export async function remainingOf(db: Queryable, budget: BudgetRow, now: Date) {
  if (budget.limit_interval === 'per_transaction') return budget.limit_amount;
  const remaining = await repo.counterRemaining(db, budget.organization_id, budget.id, now);
  return remaining === undefined ? (await figuresOf(db, budget, now)).remaining : Math.max(0, remaining);
}

/** The counter rows of a budget, oldest period first (for tests: they must equal spendBetween). */
export function countersOf(db: Queryable, budgetId: string) {
  return repo.countersOf(db, budgetId);
}
