// Parameterized SQL of transactions (captures, refunds, force captures).
import type { Queryable } from '../../platform/db.ts';
import { paginate, type ListQuery } from '../../platform/pagination.ts';
import type { Merchant } from '../authorizations/authorizations.schemas.ts';
import type { TransactionType } from './transactions.schemas.ts';

export interface TransactionRow {
  id: string;
  organization_id: string;
  card_id: string;
  card_holder_id: string | null;
  authorization_id: string | null;
  related_transaction_id: string | null;
  type: TransactionType;
  amount: number;
  refunded_amount: number;
  receivable_amount: number;
  currency: string;
  merchant: Merchant | null;
  created_at: Date;
}

export async function insertTransaction(db: Queryable, row: TransactionRow) {
  const [inserted] = await db.query<TransactionRow>(
    `INSERT INTO transactions (id, organization_id, card_id, card_holder_id, authorization_id, related_transaction_id, type,
       amount, refunded_amount, receivable_amount, currency, merchant, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *`,
    [row.id, row.organization_id, row.card_id, row.card_holder_id, row.authorization_id, row.related_transaction_id, row.type,
      row.amount, row.refunded_amount, row.receivable_amount, row.currency, row.merchant === null ? null : JSON.stringify(row.merchant), row.created_at],
  );
  return inserted;
}

export async function findTransaction(db: Queryable, organizationId: string, id: string) {
  const [row] = await db.query<TransactionRow>('SELECT * FROM transactions WHERE organization_id = $1 AND id = $2', [organizationId, id]);
  return row;
}

/** A transaction locked for a dispute step, with what won disputes credited back for it. */
export async function lockTransaction(db: Queryable, organizationId: string, id: string) {
  const [row] = await db.query<TransactionRow & { dispute_credited_amount: number }>(
    'SELECT * FROM transactions WHERE organization_id = $1 AND id = $2 FOR UPDATE',
    [organizationId, id],
  );
  return row;
}

/**
 * Adds a refund to a transaction while its refunds and won dispute credits stay within its
 * amount (migration 017); undefined when they would not.
 */
export async function addRefunded(db: Queryable, organizationId: string, id: string, amount: number) {
  const [row] = await db.query<TransactionRow>(
    `UPDATE transactions SET refunded_amount = refunded_amount + $3
      WHERE organization_id = $1 AND id = $2 AND refunded_amount + dispute_credited_amount + $3 <= amount RETURNING *`,
    [organizationId, id, amount],
  );
  return row;
}

/** Adds a won dispute's credit under the same bound as refunds; undefined when it would pass it. */
export async function addDisputeCredit(db: Queryable, organizationId: string, id: string, amount: number) {
  const [row] = await db.query<{ id: string }>(
    `UPDATE transactions SET dispute_credited_amount = dispute_credited_amount + $3
      WHERE organization_id = $1 AND id = $2 AND refunded_amount + dispute_credited_amount + $3 <= amount RETURNING id`,
    [organizationId, id, amount],
  );
  return row;
}

export function listTransactions(db: Queryable, organizationId: string, query: ListQuery & { cardId?: string; type?: string; authorizationId?: string }) {
  return paginate<TransactionRow>(db, {
    table: 'transactions',
    organizationId,
    filters: { card_id: query.cardId, type: query.type, authorization_id: query.authorizationId },
    query,
    publicFilters: { cardId: query.cardId, type: query.type, authorizationId: query.authorizationId },
  });
}
