// The ledger (DESIGN §3): double-entry, append-only. Every money movement of the API is one or
// more transfers made here, inside the caller's transaction, together with its business rows and
// its event. Accounts are credit-normal: available = credits_posted − debits_posted − debits_pending.
import type { Ctx } from '../../platform/context.ts';
import type { Queryable } from '../../platform/db.ts';
import type { StatementPart } from '../../platform/statement-part.ts';
import { amountLimitExceeded, ApiError } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { assertSafeAmount, MAX_COUNTER } from '../../platform/money.ts';
import type { ListQuery } from '../../platform/pagination.ts';
import * as repo from './ledger.repo.ts';

/** House accounts per organization and currency; they may go negative (they are the outside world). */
export const HOUSE = {
  deposits: 'house_deposits',
  settlement: 'house_settlement',
  disputes: 'house_disputes',
  /** What a forced capture could not take from a card: owed by the card holder's side. */
  receivables: 'house_receivables',
} as const;
export type HouseKind = (typeof HOUSE)[keyof typeof HOUSE];

export type LedgerAccount = repo.LedgerAccountRow;
export type Transfer = repo.TransferRow;

export function balanceOf(account: Pick<LedgerAccount, 'credits_posted' | 'debits_posted' | 'debits_pending'>) {
  const posted = account.credits_posted - account.debits_posted;
  return { available: posted - account.debits_pending, pending: account.debits_pending, posted };
}

/** Opens a customer-side ledger account (a funding account or a card) that may not go negative. */
export async function openAccount(tx: Queryable, organizationId: string, kind: 'account' | 'card', ownerId: string, currency: string, at: Date) {
  const id = newId('la', at.getTime());
  await repo.insertAccount(tx, { id, organization_id: organizationId, currency, kind, owner_id: ownerId, allow_negative: false }, at);
  return id;
}

/**
 * openAccount for a caller that folds it into its own statement (one round trip less): the id, and
 * the part of the statement that opens the account only when the CTE `source` has a row.
 */
export function openAccountPart(
  organizationId: string, kind: 'account' | 'card', ownerId: string, currency: string, at: Date,
): StatementPart & { id: string } {
  const id = newId('la', at.getTime());
  const params = repo.accountParams({ id, organization_id: organizationId, currency, kind, owner_id: ownerId, allow_negative: false }, at);
  return { id, params, sql: (source, first) => `ledger_account AS (${repo.insertAccountFromSql(source, first)})` };
}

/**
 * A hold (transfer() of kind pending) for a caller that folds it into its own statement, when only
 * SQL knows the debit account: the column `debitColumn` of the CTE `source`. The accounts are
 * locked in ascending id order, as transfer() does. The part's CTE `hold` has a row when the hold
 * was made; when the debit side cannot cover the amount nothing is written (the caller decides
 * what that means), and the statement fails rather than move one side only (ledger.repo.ts
 * holdFromSql).
 */
export function holdPart(h: repo.FoldedHold, debitColumn: string): StatementPart {
  assertSafeAmount(h.amount, 'transfer amount');
  return { params: repo.holdParams(h, MAX_COUNTER), sql: (source, first) => repo.holdFromSql(source, debitColumn, first) };
}

export function houseAccount(tx: Queryable, organizationId: string, kind: HouseKind, currency: string, at: Date) {
  return repo.insertHouseAccount(tx, newId('la', at.getTime()), organizationId, kind, currency, at);
}

export async function getAccount(db: Queryable, id: string) {
  const row = await repo.findAccount(db, id);
  if (!row) throw new Error(`ledger account ${id} is missing`);
  return row;
}

export interface NewTransfer {
  organizationId: string;
  kind?: 'single' | 'pending';
  debitAccountId: string;
  creditAccountId: string;
  amount: number;
  currency: string;
  /** What caused it, e.g. card_funding, sandbox_deposit, book_transfer. */
  code: string;
  referenceType?: string;
  referenceId?: string;
  description?: string;
  at: Date;
  /** Field named in the insufficient_funds error. */
  field?: string;
  /** The transfer's id, when the caller must name it before it exists (an authorization's hold). */
  id?: string;
  /**
   * Another module's condition, checked in the transfer's statement before either account (one
   * round trip, and its row locked no longer than the accounts'): no row, GateClosed, nothing written.
   */
  gate?: repo.TransferGate;
  /**
   * The statement itself fails when the transfer cannot be made (a closed gate too), so that a
   * COMMIT already sent behind it (db.ts commitEarly) rolls back; the errors are the same.
   */
  refuseInSql?: boolean;
}

export type TransferGate = repo.TransferGate;

/** Why a statement with a ledger part refused (paygen_refuse), if it did. */
export const refusalOf = repo.refusalOf;

/** The transfer's gate returned no row: nothing was written; the caller asks its module why. */
export class GateClosed extends Error {
  constructor() {
    super('the transfer\'s gate is closed');
  }
}

function insufficientFunds(field: string) {
  return new ApiError(422, 'insufficient_funds', 'The debit account cannot cover the amount.', [{ field, message: 'insufficient funds' }]);
}

/**
 * Applies deltas to one account, refusing with 422 amount_limit_exceeded when a counter would pass
 * MAX_COUNTER (the guard is in the UPDATE's WHERE, so nothing out of range is ever written). Zero
 * rows for any other reason (the funds guard, a missing account) come back as undefined.
 */
async function applyDeltas(tx: Queryable, id: string, deltas: repo.Deltas, guard: number | null, field: string) {
  const row = await repo.applyDeltas(tx, id, deltas, guard, MAX_COUNTER);
  if (!row && await repo.wouldPassLimit(tx, id, deltas, MAX_COUNTER)) throw amountLimitExceeded(field);
  return row;
}

/**
 * Moves `amount` from debit to credit (posted for `single`, held for `pending`). Both counters are
 * updated in ascending id order so that two transfers over the same pair never deadlock; the two
 * guarded updates and the transfer row are one statement (one round trip, DESIGN §3 step 5).
 */
export async function transfer(tx: Queryable, t: NewTransfer): Promise<Transfer> {
  assertSafeAmount(t.amount, 'transfer amount');
  const pending = t.kind === 'pending';
  const field = t.field ?? 'amount';
  const debit = { id: t.debitAccountId, deltas: pending ? { debitsPending: t.amount } : { debitsPosted: t.amount }, guard: t.amount as number | null };
  const credit = { id: t.creditAccountId, deltas: pending ? { creditsPending: t.amount } : { creditsPosted: t.amount }, guard: null };
  const row: Omit<Transfer, 'debit_available_after' | 'credit_available_after'> = {
    id: t.id ?? newId('tr', t.at.getTime()), organization_id: t.organizationId, kind: pending ? 'pending' : 'single',
    debit_account_id: t.debitAccountId, credit_account_id: t.creditAccountId, amount: t.amount, currency: t.currency,
    pending_id: null, code: t.code, reference_type: t.referenceType ?? null, reference_id: t.referenceId ?? null,
    description: t.description ?? null, created_at: t.at,
  };
  // One row cannot be updated twice by one statement: a transfer to the same account goes step by step.
  if (debit.id === credit.id) {
    if (t.gate || t.refuseInSql) throw new Error('a gated transfer, or one refusing in SQL, needs two accounts');
    return transferStepwise(tx, [debit, credit], row, field);
  }
  const [first, second] = [debit, credit].sort((a, b) => (a.id < b.id ? -1 : 1));
  const options = { gate: t.gate, refuseInSql: t.refuseInSql };
  const after = await repo.applyTransfer(tx, first, second, row, MAX_COUNTER, options).catch((error) => {
    const refusal = repo.refusalOf(error);
    if (refusal === 'gate_closed') throw new GateClosed();
    if (refusal === 'insufficient_funds') throw insufficientFunds(field);
    if (refusal === 'amount_limit_exceeded') throw amountLimitExceeded(field);
    if (refusal) throw new Error(`ledger invariant broken: transfer ${row.id} between accounts of other currencies`, { cause: error });
    throw error;
  });
  if (!after.gateOpen) throw new GateClosed();
  for (const [side, moved] of [[first, after.first], [second, after.second]] as const) {
    if (!moved) {
      if (await repo.wouldPassLimit(tx, side.id, side.deltas, MAX_COUNTER)) throw amountLimitExceeded(field);
      throw insufficientFunds(field);
    }
    if (moved.currency !== t.currency) throw new Error(`ledger invariant broken: ${side.id} is ${moved.currency}, transfer is ${t.currency}`);
  }
  const availableOf = (id: string) => (id === first.id ? after.first! : after.second!).available;
  return { ...row, debit_available_after: availableOf(debit.id), credit_available_after: availableOf(credit.id) };
}

/** The transfer as one statement per step (the debit side and the credit side are the same account). */
async function transferStepwise(tx: Queryable, sides: repo.Side[], transferRow: Omit<Transfer, 'debit_available_after' | 'credit_available_after'>, field: string) {
  let available = 0;
  for (const side of sides) {
    const row = await applyDeltas(tx, side.id, side.deltas, side.guard, field);
    if (!row) throw insufficientFunds(field);
    if (row.currency !== transferRow.currency) throw new Error(`ledger invariant broken: ${side.id} is ${row.currency}, transfer is ${transferRow.currency}`);
    available = balanceOf(row).available;
  }
  const row: Transfer = { ...transferRow, debit_available_after: available, credit_available_after: available };
  await repo.insertTransfer(tx, row);
  return row;
}

/**
 * Resolves a pending transfer once: `post` moves `amount` (≤ the hold) to posted and releases the
 * rest; `void` and `expire` release it all. A second resolution fails on the unique index.
 */
export async function resolvePending(tx: Queryable, organizationId: string, pendingId: string, kind: 'post' | 'void' | 'expire', at: Date, amount?: number) {
  const hold = await repo.findTransfer(tx, organizationId, pendingId);
  if (!hold || hold.kind !== 'pending') throw new Error(`ledger invariant broken: ${pendingId} is not a pending transfer`);
  const posted = kind === 'post' ? amount ?? hold.amount : 0;
  assertSafeAmount(posted, 'posted amount');
  if (posted > hold.amount) throw new Error('ledger invariant broken: a post may not exceed its hold');
  const ordered = [hold.debit_account_id, hold.credit_account_id].sort();
  const after = new Map<string, LedgerAccount>();
  for (const id of ordered) {
    const deltas = id === hold.debit_account_id
      ? { debitsPending: -hold.amount, debitsPosted: posted }
      : { creditsPending: -hold.amount, creditsPosted: posted };
    const row = await applyDeltas(tx, id, deltas, null, 'amount');
    if (!row) throw new Error(`ledger account ${id} is missing`);
    after.set(id, row);
  }
  const row: Transfer = {
    ...hold,
    id: newId('tr', at.getTime()),
    kind,
    amount: posted,
    pending_id: hold.id,
    debit_available_after: balanceOf(after.get(hold.debit_account_id)!).available,
    credit_available_after: balanceOf(after.get(hold.credit_account_id)!).available,
    created_at: at,
  };
  await repo.insertTransfer(tx, row);
  return row;
}

export interface LedgerCheck {
  ok: boolean;
  problems: string[];
}

/** Σ debits = Σ credits per currency, and every account's counters equal the sum of its transfers. */
export async function check(db: Queryable, organizationId: string | null = null): Promise<LedgerCheck> {
  const problems: string[] = [];
  for (const t of await repo.unbalancedCurrencies(db, organizationId)) {
    if (t.debits_posted !== t.credits_posted) problems.push(`${t.currency}: posted debits ${t.debits_posted} ≠ credits ${t.credits_posted}`);
    if (t.debits_pending !== t.credits_pending) problems.push(`${t.currency}: pending debits ${t.debits_pending} ≠ credits ${t.credits_pending}`);
  }
  for (const { id } of await repo.accountsOutOfBalance(db, organizationId)) problems.push(`${id}: counters differ from its transfers`);
  return { ok: problems.length === 0, problems };
}

/** An account's ledger entries, as the account sees them (credit or debit, available after). */
export async function listEntries(ctx: Ctx, organizationId: string, ledgerAccountId: string, query: ListQuery) {
  const page = await repo.listEntries(ctx.db, organizationId, ledgerAccountId, query);
  return {
    data: page.rows.map((t) => presentEntry(t, ledgerAccountId)),
    meta: page.meta,
  };
}

function presentEntry(t: Transfer, ledgerAccountId: string) {
  const credit = t.credit_account_id === ledgerAccountId;
  return {
    id: t.id,
    direction: credit ? ('credit' as const) : ('debit' as const),
    amount: t.amount,
    currency: t.currency,
    kind: t.code,
    status: t.kind === 'pending' ? 'pending' : t.kind === 'single' || t.kind === 'post' ? 'posted' : 'released',
    referenceType: t.reference_type,
    referenceId: t.reference_id,
    description: t.description,
    balanceAfter: credit ? t.credit_available_after : t.debit_available_after,
    createdAt: t.created_at.toISOString(),
  };
}
