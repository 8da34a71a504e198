// Parameterized SQL of budgets. A budget's spend is read straight from the ledger: the transfers
// that debit the budget's account for one of its cards.
import type { Queryable } from '../../platform/db.ts';
import { paginate, type ListQuery } from '../../platform/pagination.ts';
import type { BudgetInterval } from './budget-periods.ts';

export interface BudgetRow {
  id: string;
  organization_id: string;
  account_id: string;
  name: string;
  currency: string;
  limit_amount: number;
  limit_interval: BudgetInterval;
  status: 'active' | 'closed';
  created_at: Date;
  updated_at: Date;
  closed_at: Date | null;
}

/** A budget with the ledger account of its funding account, as every read returns it. */
export type BudgetView = BudgetRow & { account_ledger_account_id: string };

const VIEW = `SELECT b.*, a.ledger_account_id AS account_ledger_account_id
  FROM budgets b JOIN accounts a ON a.id = b.account_id`;

export async function insertBudget(db: Queryable, row: BudgetRow) {
  await db.query(
    `INSERT INTO budgets (id, organization_id, account_id, name, currency, limit_amount, limit_interval, status, created_at, updated_at, closed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [row.id, row.organization_id, row.account_id, row.name, row.currency, row.limit_amount, row.limit_interval,
      row.status, row.created_at, row.updated_at, row.closed_at],
  );
}

/**
 * `share` keeps the budget row locked until commit, so that a card issued against an active
 * budget cannot interleave with its closing; `update` serializes the callers that check the
 * budget's remaining amount before spending it.
 */
export async function findBudget(db: Queryable, organizationId: string, id: string, lock?: 'share' | 'update') {
  const clause = lock === 'share' ? ' FOR SHARE OF b' : lock === 'update' ? ' FOR UPDATE OF b' : '';
  const [row] = await db.query<BudgetView>(`${VIEW} WHERE b.organization_id = $1 AND b.id = $2${clause}`, [organizationId, id]);
  return row;
}

export async function updateBudget(
  db: Queryable, organizationId: string, id: string,
  changes: { name?: string; limit_amount?: number; limit_interval?: string; status?: string; closed_at?: Date }, at: Date,
) {
  await db.query(
    `UPDATE budgets SET name = COALESCE($3, name), limit_amount = COALESCE($4::bigint, limit_amount),
            limit_interval = COALESCE($5, limit_interval), status = COALESCE($6, status),
            closed_at = COALESCE($7, closed_at), updated_at = $8
      WHERE organization_id = $1 AND id = $2`,
    [organizationId, id, changes.name ?? null, changes.limit_amount ?? null, changes.limit_interval ?? null,
      changes.status ?? null, changes.closed_at ?? null, at],
  );
}

export function listBudgets(db: Queryable, organizationId: string, query: ListQuery & { accountId?: string; status?: string; currency?: string }) {
  return paginate<BudgetView>(db, {
    table: `(${VIEW}) AS budget_views`,
    organizationId,
    filters: { account_id: query.accountId, status: query.status, currency: query.currency },
    query,
    publicFilters: { accountId: query.accountId, status: query.status, currency: query.currency },
  });
}

/** The ids of the budget's cards (read only: the cards module owns them). */
export async function cardIdsOfBudget(db: Queryable, organizationId: string, budgetId: string) {
  const rows = await db.query<{ id: string }>(
    'SELECT id FROM cards WHERE organization_id = $1 AND budget_id = $2 ORDER BY id',
    [organizationId, budgetId],
  );
  return rows.map((r) => r.id);
}

/** Transfer codes that spend a budget, and the one that gives spend back. */
export const SPEND_CODES = ['authorization', 'force_capture'] as const;
export const REFUND_CODE = 'refund';

/**
 * Spend of the budget's cards on the budget's account between `from` and `asOf` (both inclusive):
 * a posted transfer at its amount; a hold at its held amount while unresolved at `asOf`, at its
 * posted amount once posted, 0 once voided or expired (those resolutions carry amount 0). A hold
 * counts in the period it was placed in, whenever it resolves. Refunds credit the account back.
 * The net (spend less refunds, never below 0: refunds of an earlier period's purchase do not turn
 * this period negative) is computed in SQL and capped at `cap`, so sums past 2^53 never reach a
 * JavaScript number; budget limits are far smaller, so the cap never changes a decision.
 */
export async function spendBetween(db: Queryable, budget: BudgetView, from: Date, asOf: Date, cap: number) {
  const [row] = await db.query<{ spent: number }>(
    `WITH budget_cards AS (
       SELECT id FROM cards WHERE organization_id = $1 AND budget_id = $2
     ), spend AS (
       SELECT CASE WHEN t.kind = 'pending' AND r.id IS NOT NULL THEN r.amount ELSE t.amount END AS amount
         FROM ledger_transfers t
         LEFT JOIN ledger_transfers r ON r.pending_id = t.id AND r.created_at <= $5
        WHERE t.organization_id = $1 AND t.reference_type = 'card' AND t.reference_id IN (SELECT id FROM budget_cards)
          AND t.debit_account_id = $3 AND t.code = ANY($6::text[]) AND t.kind IN ('single', 'pending')
          AND t.created_at >= $4 AND t.created_at <= $5
     ), refunds AS (
       SELECT t.amount
         FROM ledger_transfers t
        WHERE t.organization_id = $1 AND t.reference_type = 'card' AND t.reference_id IN (SELECT id FROM budget_cards)
          AND t.credit_account_id = $3 AND t.code = $7 AND t.kind IN ('single', 'post')
          AND t.created_at >= $4 AND t.created_at <= $5
     )
     SELECT GREATEST(0, LEAST((SELECT COALESCE(SUM(amount), 0) FROM spend) - (SELECT COALESCE(SUM(amount), 0) FROM refunds),
                              $8::bigint))::bigint AS spent`,
    [budget.organization_id, budget.id, budget.account_ledger_account_id, from, asOf, [...SPEND_CODES], REFUND_CODE, cap],
  );
  return row.spent;
}
