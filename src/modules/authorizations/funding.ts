// Where the money of a card payment comes from and goes to. A card's holds and captures debit the
// card's ledger account (a budget card's: its budget's funding account) and credit the
// organization's network settlement account. A forced capture the card cannot cover books the
// shortfall on the organization's receivables account (a house account that may go negative):
// the network has paid the merchant, and the card holder owes the difference.
import type { Ctx } from '../../platform/context.ts';
import type { Queryable } from '../../platform/db.ts';
import { ApiError } from '../../platform/errors.ts';
import * as accounts from '../accounts/accounts.service.ts';
import * as budgets from '../budgets/budgets.service.ts';
import type { CardRow } from '../cards/cards.repo.ts';
import * as ledger from '../ledger/ledger.service.ts';
import * as repo from './authorizations.repo.ts';

/**
 * House kind of the receivables account. The ledger's HOUSE table does not list it yet; the
 * ledger stores any house kind, so the cast is safe (see the issue 4 report: add it to HOUSE).
 */
const RECEIVABLES = ledger.HOUSE.receivables;

/** House account ids never change once made, so they are cached per organization and currency. */
const settlementIds = new Map<string, string>();
const MAX_CACHED_SETTLEMENT_IDS = 10_000;

/**
 * The organization's settlement account for `currency`. It is made (if need be) outside any
 * command's transaction, so that a cached id always names a committed row.
 */
export async function settlementAccountId(ctx: Ctx, organizationId: string, currency: string, at: Date) {
  const key = `${organizationId}:${currency}`;
  const cached = settlementIds.get(key);
  if (cached) return cached;
  const id = await ledger.houseAccount(ctx.db, organizationId, ledger.HOUSE.settlement, currency, at);
  if (settlementIds.size >= MAX_CACHED_SETTLEMENT_IDS) settlementIds.clear();
  settlementIds.set(key, id);
  return id;
}

/** The settlement account's id when this process already knows it (no database round trip). */
export function knownSettlementAccountId(organizationId: string, currency: string) {
  return settlementIds.get(`${organizationId}:${currency}`);
}

/** The ledger account a card pays from: its own, or its budget's funding account. */
export async function fundingAccountId(tx: Queryable, card: Pick<CardRow, 'organization_id' | 'budget_id' | 'debit_account_id' | 'ledger_account_id'>) {
  if (!card.budget_id) return card.ledger_account_id;
  // A budget card is always issued on its budget's account (cards service), so its debit account is the budget's.
  return (await accounts.findForCard(tx, card.organization_id, card.debit_account_id)).ledger_account_id;
}

export async function availableOf(tx: Queryable, ledgerAccountId: string) {
  return ledger.balanceOf(await ledger.getAccount(tx, ledgerAccountId)).available;
}

export const isInsufficientFunds = (error: unknown) => error instanceof ApiError && error.code === 'insufficient_funds';

export interface ForcedDebit {
  organizationId: string;
  cardId: string;
  fundingId: string;
  settlementId: string;
  amount: number;
  currency: string;
  code: 'authorization' | 'force_capture';
  at: Date;
  /** A budget card's budget: the covered part is its spend (the shortfall is not: receivables pay it). */
  budgetId?: string | null;
}

/**
 * Moves `amount` from the card's funding side to settlement whatever the balance (the network
 * forces clearing): the part the funding side can cover is debited from it, the rest from the
 * receivables account. Returns the receivable part.
 */
export async function forcedDebit(tx: Queryable, d: ForcedDebit) {
  const base = { organizationId: d.organizationId, creditAccountId: d.settlementId, currency: d.currency, code: d.code, referenceType: 'card', referenceId: d.cardId, at: d.at };
  let covered = Math.min(d.amount, Math.max(0, await availableOf(tx, d.fundingId)));
  if (covered > 0) {
    // A budget's funding account can be spent by others between the read and the debit; the
    // savepoint turns that race into "not covered" instead of an aborted capture.
    await repo.savepoint(tx, 'forced_debit');
    try {
      // The budget's counter before the funding account (the order of every budget path); the
      // savepoint takes both back.
      if (d.budgetId) await budgets.recordSpend(tx, d.organizationId, d.budgetId, { at: d.at, spent: covered });
      await ledger.transfer(tx, { ...base, debitAccountId: d.fundingId, amount: covered });
    } catch (error) {
      if (!isInsufficientFunds(error)) throw error;
      await repo.rollbackTo(tx, 'forced_debit');
      covered = 0;
    }
  }
  const receivable = d.amount - covered;
  if (receivable > 0) {
    const receivablesId = await ledger.houseAccount(tx, d.organizationId, RECEIVABLES, d.currency, d.at);
    await ledger.transfer(tx, { ...base, debitAccountId: receivablesId, amount: receivable, code: 'capture_shortfall', description: 'Forced capture beyond the card\'s funds' });
  }
  return receivable;
}
