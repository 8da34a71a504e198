// Transactions: the clearing records of the simulated network. A capture is made by the
// authorizations module inside its capture step; refunds and force captures are their own
// commands here. Each command is one transaction: the card lock, the ledger transfers, the
// transaction row and its event.
import type { Ctx } from '../../platform/context.ts';
import type { Queryable } from '../../platform/db.ts';
import { notFound, unprocessable } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import type { ListQuery } from '../../platform/pagination.ts';
import type { Merchant } from '../authorizations/authorizations.schemas.ts';
import { forcedDebit, fundingAccountId, settlementAccountId } from '../authorizations/funding.ts';
import * as budgets from '../budgets/budgets.service.ts';
import { afterHoldReleased, lockCard, viewCard } from '../cards/card-lifecycle.service.ts';
import type { CardRow } from '../cards/cards.repo.ts';
import { recordEvent } from '../events/events.service.ts';
import * as ledger from '../ledger/ledger.service.ts';
import * as repo from './transactions.repo.ts';
import type { ForceCaptureBody, RefundBody, Transaction, TransactionType } from './transactions.schemas.ts';

export function present(row: repo.TransactionRow): Transaction {
  return {
    id: row.id, type: row.type, cardId: row.card_id, authorizationId: row.authorization_id,
    relatedTransactionId: row.related_transaction_id, amount: row.amount, refundedAmount: row.refunded_amount,
    receivableAmount: row.receivable_amount, currency: row.currency, merchant: row.merchant, createdAt: row.created_at.toISOString(),
  };
}

export interface NewTransaction {
  organizationId: string;
  card: Pick<CardRow, 'id' | 'card_holder_id'>;
  authorizationId: string | null;
  relatedTransactionId: string | null;
  type: TransactionType;
  amount: number;
  receivableAmount: number;
  currency: string;
  merchant: Merchant | null;
  at: Date;
}

/** Stores a transaction and records transaction.created, inside the caller's transaction. */
export async function recordTransaction(tx: Queryable, t: NewTransaction) {
  const row = await repo.insertTransaction(tx, {
    id: newId('txn', t.at.getTime()), organization_id: t.organizationId, card_id: t.card.id, card_holder_id: t.card.card_holder_id,
    authorization_id: t.authorizationId, related_transaction_id: t.relatedTransactionId, type: t.type, amount: t.amount,
    refunded_amount: 0, receivable_amount: t.receivableAmount, currency: t.currency, merchant: t.merchant, created_at: t.at,
  });
  const transaction = present(row);
  await recordEvent(tx, { organizationId: t.organizationId, type: 'transaction.created', resourceId: row.id, data: transaction, at: t.at });
  return transaction;
}

export async function getTransaction(ctx: Ctx, organizationId: string, id: string) {
  const row = await repo.findTransaction(ctx.db, organizationId, id);
  if (!row) throw notFound('Transaction');
  return present(row);
}

export async function listTransactions(ctx: Ctx, organizationId: string, query: ListQuery & { cardId?: string; type?: string; authorizationId?: string }) {
  const page = await repo.listTransactions(ctx.db, organizationId, query);
  return { data: page.rows.map(present), meta: page.meta };
}

/** For disputes: the transaction locked (with its won dispute credits), or 404. */
export async function lockForDispute(tx: Queryable, organizationId: string, id: string) {
  const row = await repo.lockTransaction(tx, organizationId, id);
  if (!row) throw notFound('Transaction');
  return row;
}

/** For disputes: records a won dispute's credit; refunds and credits never pass the amount. */
export async function addDisputeCredit(tx: Queryable, organizationId: string, id: string, amount: number) {
  if (!(await repo.addDisputeCredit(tx, organizationId, id, amount))) {
    throw new Error(`invariant broken: the dispute credit of ${id} would pass its amount`);
  }
}

/** Runs a card-level clearing command: the card locked, the settlement account at hand. */
async function onCard<T>(ctx: Ctx, organizationId: string, cardId: string, fn: (tx: Queryable, card: CardRow, settlementId: string, now: Date) => Promise<T>) {
  const peek = await viewCard(ctx.db, organizationId, cardId);
  const settlementId = await settlementAccountId(ctx, organizationId, peek.currency, ctx.clock.now());
  return ctx.db.transaction(async (tx) => {
    const card = await lockCard(tx, organizationId, cardId);
    return fn(tx, card, settlementId, ctx.clock.now());
  });
}

/**
 * A merchant's refund: the money comes back from settlement to the card (a budget card: to the
 * budget's account, which gives the budget its spend back). With `transactionId`, the refunds of
 * that transaction never exceed it. A cancelled or expired card passes the money on to its debit
 * account at once.
 */
export function refund(ctx: Ctx, organizationId: string, body: RefundBody) {
  return onCard(ctx, organizationId, body.cardId, async (tx, card, settlementId, now) => {
    let merchant: Merchant | null = null;
    if (body.transactionId) {
      const original = await repo.findTransaction(tx, organizationId, body.transactionId);
      if (!original || original.card_id !== card.id || original.type === 'refund') {
        throw unprocessable('transaction_not_refundable', 'transactionId must be a capture or force capture of this card.', 'transactionId');
      }
      // A won dispute already gave part of the money back: a refund never pays it twice.
      if (!(await repo.addRefunded(tx, organizationId, original.id, body.amount))) {
        const locked = await repo.lockTransaction(tx, organizationId, original.id);
        throw unprocessable('refund_exceeds_transaction', `Refunds and won dispute credits of ${original.id} may total at most ${original.amount}; ` +
          `${locked.refunded_amount} is refunded and ${locked.dispute_credited_amount} credited by disputes already.`, 'amount');
      }
      merchant = original.merchant;
    }
    // A budget card's refund gives its budget spend back in this period (before the ledger, as
    // every budget path orders its rows).
    if (card.budget_id) await budgets.recordSpend(tx, organizationId, card.budget_id, { at: now, refunded: body.amount });
    await ledger.transfer(tx, {
      organizationId, debitAccountId: settlementId, creditAccountId: await fundingAccountId(tx, card), amount: body.amount,
      currency: card.currency, code: 'refund', referenceType: 'card', referenceId: card.id, at: now,
    });
    await afterHoldReleased(tx, organizationId, card.id, now);
    return recordTransaction(tx, {
      organizationId, card, authorizationId: null, relatedTransactionId: body.transactionId ?? null, type: 'refund', amount: body.amount,
      receivableAmount: 0, currency: card.currency, merchant, at: now,
    });
  });
}

/** Clearing with no authorization: always booked, like a capture beyond its hold. */
export function forceCapture(ctx: Ctx, organizationId: string, body: ForceCaptureBody) {
  return onCard(ctx, organizationId, body.cardId, async (tx, card, settlementId, now) => {
    const receivable = await forcedDebit(tx, {
      organizationId, cardId: card.id, fundingId: await fundingAccountId(tx, card), settlementId, amount: body.amount,
      currency: card.currency, code: 'force_capture', at: now, budgetId: card.budget_id,
    });
    return recordTransaction(tx, {
      organizationId, card, authorizationId: null, relatedTransactionId: null, type: 'force_capture', amount: body.amount,
      receivableAmount: receivable, currency: card.currency, merchant: body.merchant, at: now,
    });
  });
}
