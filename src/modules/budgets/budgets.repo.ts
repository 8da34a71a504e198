// Parameterized SQL of budgets. A budget's spend is read straight from the ledger (the transfers
// that debit the budget's account for one of its cards), and kept per period in budget_spend
// (migration 021) so that an authorization takes its amount in one guarded update.
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

/**
 * The start, in SQL, of the period of budget row `b` that contains the timestamptz `at`: periodAt
 * for the database (UTC days, weeks from Monday, months, years; all_time from creation), NULL for
 * per_transaction. The counter's tests compare both.
 */
function periodStartOf(at: string, b = 'b') {
  return `(CASE ${b}.limit_interval WHEN 'daily' THEN date_trunc('day', ${at}, 'UTC')
     WHEN 'weekly' THEN date_trunc('week', ${at}, 'UTC') WHEN 'monthly' THEN date_trunc('month', ${at}, 'UTC')
     WHEN 'yearly' THEN date_trunc('year', ${at}, 'UTC') WHEN 'all_time' THEN ${b}.created_at END)`;
}

/** The period a change counts in: its hold's (`$4`, a pending transfer's id) when it has one, else `$3`. */
const CHANGE_PERIOD = periodStartOf(`COALESCE((SELECT h.created_at FROM ledger_transfers h
     WHERE h.organization_id = $1 AND h.id = $4::text), $3::timestamptz)`);

/** What a counter statement found: the budget's status, and no period for per_transaction. */
export interface CounterOutcome {
  status: BudgetRow['status'];
  limit_amount: number;
  per_transaction: boolean;
}

/**
 * Takes `amount` of the remaining amount of the period containing `at` in one guarded update:
 * granted is `amount`, or null when the budget is closed, the remaining amount is short, or the
 * period's row does not exist yet (ensureCounter, then again). The budget row is read, not locked:
 * a change of the budget deletes the rows (deleteCounters), so a racing update finds none.
 */
export async function claimAll(db: Queryable, organizationId: string, budgetId: string, at: Date, amount: number) {
  const [row] = await db.query<CounterOutcome & { granted: number | null }>(
    `WITH b AS (SELECT b.id, b.status, b.limit_amount, ${periodStartOf('$3::timestamptz')} AS period_start
                  FROM budgets b WHERE b.organization_id = $1 AND b.id = $2),
     u AS (UPDATE budget_spend s SET spent = s.spent + $4::bigint FROM b
            WHERE s.budget_id = b.id AND s.period_start = b.period_start AND b.status = 'active'
              AND b.limit_amount - GREATEST(0, s.spent - s.refunded) >= $4::bigint
           RETURNING $4::bigint AS granted)
     SELECT b.status, b.limit_amount, b.period_start IS NULL AS per_transaction, (SELECT granted FROM u) AS granted FROM b`,
    [organizationId, budgetId, at, amount],
  );
  return row;
}

/**
 * claimAll as a gate of the hold's ledger transfer (ledger.transfer's `gate`): the same guarded
 * update inside the hold's statement, so the counter row is locked no longer than the funding
 * account's. No row back: refused, closed, per_transaction or no row yet (claimAll says which).
 */
export function claimAllGate(organizationId: string, budgetId: string, at: Date, amount: number) {
  return {
    cte: (p: number) => `UPDATE budget_spend s SET spent = s.spent + $${p + 3}::bigint FROM budgets b
       WHERE b.organization_id = $${p} AND b.id = $${p + 1} AND s.budget_id = b.id
         AND s.period_start = ${periodStartOf(`$${p + 2}::timestamptz`)} AND b.status = 'active'
         AND b.limit_amount - GREATEST(0, s.spent - s.refunded) >= $${p + 3}::bigint
      RETURNING s.budget_id`,
    params: [organizationId, budgetId, at, amount],
  };
}

/**
 * claimAll for a terminal that accepts less: takes what remains up to `amount` (at least 1). The
 * row is locked first so that the amount granted is computed from its latest version.
 */
export async function claimUpTo(db: Queryable, organizationId: string, budgetId: string, at: Date, amount: number) {
  const [row] = await db.query<CounterOutcome & { granted: number | null }>(
    `WITH b AS (SELECT b.id, b.status, b.limit_amount, ${periodStartOf('$3::timestamptz')} AS period_start
                  FROM budgets b WHERE b.organization_id = $1 AND b.id = $2),
     cur AS (SELECT s.budget_id, s.period_start, LEAST($4::bigint, b.limit_amount - GREATEST(0, s.spent - s.refunded)) AS granted
               FROM budget_spend s JOIN b ON s.budget_id = b.id AND s.period_start = b.period_start
              WHERE b.status = 'active' FOR UPDATE OF s),
     u AS (UPDATE budget_spend s SET spent = s.spent + c.granted FROM cur c
            WHERE s.budget_id = c.budget_id AND s.period_start = c.period_start AND c.granted >= 1
           RETURNING c.granted)
     SELECT b.status, b.limit_amount, b.period_start IS NULL AS per_transaction, (SELECT granted FROM u) AS granted FROM b`,
    [organizationId, budgetId, at, amount],
  );
  return row;
}

/**
 * Adds a change to the row of the period it counts in (its hold's, or `at`'s). applied is false
 * when the row does not exist yet (ensureCounter, then again).
 */
export async function addToCounter(
  db: Queryable, organizationId: string, budgetId: string, change: { at: Date; holdId: string | null; spent: number; refunded: number },
) {
  const [row] = await db.query<CounterOutcome & { applied: boolean }>(
    `WITH b AS (SELECT b.id, b.status, b.limit_amount, ${CHANGE_PERIOD} AS period_start
                  FROM budgets b WHERE b.organization_id = $1 AND b.id = $2),
     u AS (UPDATE budget_spend s SET spent = s.spent + $5::bigint, refunded = s.refunded + $6::bigint FROM b
            WHERE s.budget_id = b.id AND s.period_start = b.period_start RETURNING 1)
     SELECT b.status, b.limit_amount, b.period_start IS NULL AS per_transaction, EXISTS (SELECT 1 FROM u) AS applied FROM b`,
    [organizationId, budgetId, change.at, change.holdId, change.spent, change.refunded],
  );
  return row;
}

/**
 * Holds the budget's configuration (limit, interval, status) until commit: FOR KEY SHARE does not
 * wait on other spenders, but a change of the budget (FOR UPDATE) waits for them, and they for it.
 */
export async function shareConfiguration(db: Queryable, organizationId: string, budgetId: string) {
  await db.query('SELECT 1 FROM budgets WHERE organization_id = $1 AND id = $2 FOR KEY SHARE', [organizationId, budgetId]);
}

/**
 * Makes the row of an active budget's period (the period of `$4`'s hold, or of `at`) from the
 * ledger, as spendBetween counts it but over the whole period, unless it exists. Run under
 * shareConfiguration and before the caller's own transfers of that period: a racing maker loses
 * on the primary key and the caller then updates the winner's row.
 */
export async function ensureCounter(db: Queryable, organizationId: string, budgetId: string, at: Date, holdId: string | null) {
  await db.query(
    `WITH b AS (SELECT b.*, a.ledger_account_id AS account_ledger_id FROM budgets b JOIN accounts a ON a.id = b.account_id
                 WHERE b.organization_id = $1 AND b.id = $2 AND b.status = 'active'),
     p AS (SELECT b.*, ${CHANGE_PERIOD} AS start FROM b),
     budget_cards AS (SELECT c.id FROM cards c WHERE c.organization_id = $1 AND c.budget_id = $2)
     INSERT INTO budget_spend (budget_id, period_start, spent, refunded)
     SELECT p.id, p.start,
            COALESCE((SELECT SUM(CASE WHEN t.kind = 'pending' AND r.id IS NOT NULL THEN r.amount ELSE t.amount END)
                        FROM ledger_transfers t LEFT JOIN ledger_transfers r ON r.pending_id = t.id
                       WHERE t.organization_id = $1 AND t.reference_type = 'card' AND t.reference_id IN (SELECT id FROM budget_cards)
                         AND t.debit_account_id = p.account_ledger_id AND t.code = ANY($5::text[]) AND t.kind IN ('single', 'pending')
                         AND t.created_at >= p.start AND ${periodStartOf('t.created_at', 'p')} = p.start), 0),
            COALESCE((SELECT SUM(t.amount) FROM ledger_transfers t
                       WHERE t.organization_id = $1 AND t.reference_type = 'card' AND t.reference_id IN (SELECT id FROM budget_cards)
                         AND t.credit_account_id = p.account_ledger_id AND t.code = $6 AND t.kind IN ('single', 'post')
                         AND t.created_at >= p.start AND ${periodStartOf('t.created_at', 'p')} = p.start), 0)
       FROM p
      WHERE p.start IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM budget_spend s WHERE s.budget_id = p.id AND s.period_start = p.start)
     ON CONFLICT (budget_id, period_start) DO NOTHING`,
    [organizationId, budgetId, at, holdId, [...SPEND_CODES], REFUND_CODE],
  );
}

/** The remaining amount of the period containing `at` from its row; undefined when there is none yet. */
export async function counterRemaining(db: Queryable, organizationId: string, budgetId: string, at: Date) {
  const [row] = await db.query<{ remaining: number }>(
    `SELECT b.limit_amount - GREATEST(0, s.spent - s.refunded) AS remaining
       FROM budgets b JOIN budget_spend s ON s.budget_id = b.id AND s.period_start = ${periodStartOf('$3::timestamptz')}
      WHERE b.organization_id = $1 AND b.id = $2`,
    [organizationId, budgetId, at],
  );
  return row?.remaining;
}

/** The rows of one budget's periods, oldest first (tests compare them with spendBetween). */
export function countersOf(db: Queryable, budgetId: string) {
  return db.query<{ period_start: Date; spent: number; refunded: number }>(
    'SELECT period_start, spent, refunded FROM budget_spend WHERE budget_id = $1 ORDER BY period_start', [budgetId],
  );
}

/**
 * Forgets the budget's rows when its limit, interval or status changes (under its FOR UPDATE
 * lock): an update racing on a row waits for this and then finds none, and the next spender makes
 * the row again from the ledger under the new figures.
 */
export async function deleteCounters(db: Queryable, budgetId: string) {
  await db.query('DELETE FROM budget_spend WHERE budget_id = $1', [budgetId]);
}
