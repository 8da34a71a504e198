// Parameterized SQL of the ledger. Guards live in the WHERE clauses so that no read-then-write
// race is possible (DESIGN §3, step 2).
import type { Queryable } from '../../platform/db.ts';
import { paginate, type ListQuery } from '../../platform/pagination.ts';
import { refusalCode } from '../../platform/statement-part.ts';

export interface LedgerAccountRow {
  id: string;
  organization_id: string;
  currency: string;
  kind: string;
  owner_id: string | null;
  allow_negative: boolean;
  debits_pending: number;
  debits_posted: number;
  credits_pending: number;
  credits_posted: number;
}

export interface TransferRow {
  id: string;
  organization_id: string;
  kind: 'single' | 'pending' | 'post' | 'void' | 'expire';
  debit_account_id: string;
  credit_account_id: string;
  amount: number;
  currency: string;
  pending_id: string | null;
  code: string;
  reference_type: string | null;
  reference_id: string | null;
  description: string | null;
  debit_available_after: number;
  credit_available_after: number;
  created_at: Date;
}

type NewAccount = Pick<LedgerAccountRow, 'id' | 'organization_id' | 'currency' | 'kind' | 'owner_id' | 'allow_negative'>;

export async function insertAccount(db: Queryable, row: NewAccount, at: Date) {
  await db.query(
    `INSERT INTO ledger_accounts (id, organization_id, currency, kind, owner_id, allow_negative, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    accountParams(row, at),
  );
}

/**
 * insertAccount as SQL for a caller that folds it into its own statement: the account is inserted
 * once per row of the CTE `from` (not at all when it is empty), its values from $first to $first+6.
 */
export function insertAccountFromSql(from: string, first: number) {
  const $ = (i: number, type: string) => `$${first + i - 1}::${type}`;
  return `INSERT INTO ledger_accounts (id, organization_id, currency, kind, owner_id, allow_negative, created_at)
     SELECT ${$(1, 'text')}, ${$(2, 'text')}, ${$(3, 'text')}, ${$(4, 'text')}, ${$(5, 'text')}, ${$(6, 'boolean')}, ${$(7, 'timestamptz')}
       FROM ${from}`;
}

export function accountParams(row: NewAccount, at: Date) {
  return [row.id, row.organization_id, row.currency, row.kind, row.owner_id, row.allow_negative, at];
}

export async function insertHouseAccount(db: Queryable, id: string, organizationId: string, kind: string, currency: string, at: Date) {
  await db.query(
    `INSERT INTO ledger_accounts (id, organization_id, currency, kind, owner_id, allow_negative, created_at)
     VALUES ($1, $2, $3, $4, NULL, true, $5)
     ON CONFLICT (organization_id, kind, currency) WHERE owner_id IS NULL DO NOTHING`,
    [id, organizationId, currency, kind, at],
  );
  const [row] = await db.query<{ id: string }>(
    'SELECT id FROM ledger_accounts WHERE organization_id = $1 AND kind = $2 AND currency = $3 AND owner_id IS NULL',
    [organizationId, kind, currency],
  );
  return row.id;
}

export async function findAccount(db: Queryable, id: string) {
  const [row] = await db.query<LedgerAccountRow>('SELECT * FROM ledger_accounts WHERE id = $1', [id]);
  return row;
}

const AVAILABLE = 'credits_posted - debits_posted - debits_pending';

/** The columns of a transfer row, in the order every insert below binds them. */
const TRANSFER_COLUMNS = `id, organization_id, kind, debit_account_id, credit_account_id, amount, currency,
         pending_id, code, reference_type, reference_id, description, debit_available_after, credit_available_after, created_at`;

export interface Deltas { debitsPending?: number; debitsPosted?: number; creditsPending?: number; creditsPosted?: number }

const deltaParams = (d: Deltas) => [d.debitsPending ?? 0, d.debitsPosted ?? 0, d.creditsPending ?? 0, d.creditsPosted ?? 0];

/**
 * True while the counters after the deltas, and the available balance they give, stay within
 * ±$6 (the bound of migration 010's CHECK constraints). Deltas are $2 to $5.
 */
const WITHIN_LIMIT = `debits_pending + $2 <= $6::bigint AND debits_posted + $3 <= $6::bigint
       AND credits_pending + $4 <= $6::bigint AND credits_posted + $5 <= $6::bigint
       AND (credits_posted + $5) - (debits_posted + $3) - (debits_pending + $2) BETWEEN -$6::bigint AND $6::bigint`;

/**
 * Applies deltas to one account's counters. With `guard`, the update only happens while the
 * account can cover `guard` from its available balance; it never happens when a counter would
 * pass `limit`. Zero rows back means "cannot": see `wouldPassLimit` for which.
 */
export async function applyDeltas(db: Queryable, id: string, deltas: Deltas, guard: number | null, limit: number): Promise<LedgerAccountRow | undefined> {
  const [row] = await db.query<LedgerAccountRow>(
    `UPDATE ledger_accounts SET
       debits_pending = debits_pending + $2, debits_posted = debits_posted + $3,
       credits_pending = credits_pending + $4, credits_posted = credits_posted + $5
     WHERE id = $1 AND ($7::bigint IS NULL OR allow_negative OR ${AVAILABLE} >= $7::bigint)
       AND ${WITHIN_LIMIT}
     RETURNING *`,
    [id, ...deltaParams(deltas), limit, guard],
  );
  return row;
}

/** Whether applying the deltas would take one of the account's counters past `limit`. */
export async function wouldPassLimit(db: Queryable, id: string, deltas: Deltas, limit: number): Promise<boolean> {
  const [row] = await db.query<{ within: boolean }>(
    `SELECT ${WITHIN_LIMIT} AS within FROM ledger_accounts WHERE id = $1`,
    [id, ...deltaParams(deltas), limit],
  );
  return row !== undefined && !row.within;
}

/** WITHIN_LIMIT for deltas in parameters $d to $d+3 and the limit in $limit. */
const withinLimit = (d: number, limit: number) => `debits_pending + $${d} <= $${limit}::bigint
       AND debits_posted + $${d + 1} <= $${limit}::bigint AND credits_pending + $${d + 2} <= $${limit}::bigint
       AND credits_posted + $${d + 3} <= $${limit}::bigint
       AND (credits_posted + $${d + 3}) - (debits_posted + $${d + 1}) - (debits_pending + $${d}) BETWEEN -$${limit}::bigint AND $${limit}::bigint`;

/**
 * Guarded counter update of one side: id in $i (or the SQL `id`, e.g. a column of another CTE),
 * deltas in $i+1..$i+4, guard in $i+5.
 */
const sideUpdate = (i: number, limit: number, after: string, id = `$${i}`) => `UPDATE ledger_accounts SET
       debits_pending = debits_pending + $${i + 1}, debits_posted = debits_posted + $${i + 2},
       credits_pending = credits_pending + $${i + 3}, credits_posted = credits_posted + $${i + 4}
     WHERE id = ${id} AND ($${i + 5}::bigint IS NULL OR allow_negative OR ${AVAILABLE} >= $${i + 5}::bigint)
       AND ${withinLimit(i + 1, limit)}${after}
     RETURNING id, currency, ${AVAILABLE} AS available`;

export interface Side { id: string; deltas: Deltas; guard: number | null }

/**
 * Another module's condition on a transfer, in the transfer's statement: a data-modifying CTE body
 * (its parameters numbered from `firstParam`) that returns a row when the transfer may happen, e.g.
 * a budget's guarded counter update. No row: nothing is written.
 */
export interface TransferGate {
  cte: (firstParam: number) => string;
  params: unknown[];
}

/** What applyTransfer did to each side: undefined for a side that could not move (nothing written after it). */
export interface SidesAfter {
  /** False when the gate returned no row (then neither side moved). */
  gateOpen: boolean;
  first?: { currency: string; available: number };
  second?: { currency: string; available: number };
}

/**
 * One transfer in one statement (one round trip): the guarded update of `first`, then (only if it
 * happened: the EXISTS makes the order, so locks are taken first then second) the guarded update
 * of `second`, then the transfer row, whose available-after figures come from the two updates.
 * When `first` cannot move, nothing is written; when `second` cannot, `first` moved and the
 * caller's transaction must not commit (the caller throws).
 */
export async function applyTransfer(
  db: Queryable, first: Side, second: Side, row: Omit<TransferRow, 'debit_available_after' | 'credit_available_after'>, limit: number,
  options: { gate?: TransferGate; refuseInSql?: boolean } = {},
): Promise<SidesAfter> {
  const { gate, refuseInSql = false } = options;
  const debitFirst = row.debit_account_id === first.id;
  const [result] = await db.query<{ first_currency: string | null; first_available: number | null; second_currency: string | null; second_available: number | null; gate_open: boolean }>(
    applyTransferSql(gate, refuseInSql),
    [first.id, ...deltaParams(first.deltas), first.guard, second.id, ...deltaParams(second.deltas), second.guard, limit,
      row.id, row.organization_id, row.kind, row.debit_account_id, row.credit_account_id, row.amount, row.currency,
      row.pending_id, row.code, row.reference_type, row.reference_id, row.description, row.created_at, debitFirst,
      ...(gate?.params ?? [])],
  );
  return {
    gateOpen: result.gate_open,
    first: result.first_currency === null ? undefined : { currency: result.first_currency, available: result.first_available! },
    second: result.second_currency === null ? undefined : { currency: result.second_currency, available: result.second_available! },
  };
}

/** The ledger's refusals in SQL (paygen_refuse, migration 024). */
export type Refusal = 'insufficient_funds' | 'amount_limit_exceeded' | 'currency_mismatch' | 'gate_closed';
const REFUSALS = new Set<string>(['insufficient_funds', 'amount_limit_exceeded', 'currency_mismatch', 'gate_closed']);

export function refusalOf(error: unknown): Refusal | undefined {
  const code = refusalCode(error);
  return code !== undefined && REFUSALS.has(code) ? code as Refusal : undefined;
}

/** Why side $i (id in $i, deltas from $i+1) did not move: the counter limit, or else the funds guard. */
const sideRefusal = (i: number, limit: number) => `paygen_refuse(CASE WHEN (SELECT NOT (${withinLimit(i + 1, limit)})
         FROM ledger_accounts WHERE id = $${i}) THEN 'amount_limit_exceeded' ELSE 'insufficient_funds' END)`;

/**
 * The transfer's statement. The gate runs first (the EXISTS orders it, as it orders first and
 * second): nothing moves without its row. `refuse`: the statement fails (paygen_refuse) when the
 * gate is closed, a side cannot move or is in another currency, so that its transaction cannot
 * commit (db.ts commitEarly); otherwise the caller reads what moved and throws.
 */
function applyTransferSql(gate: TransferGate | undefined, refuse: boolean) {
  const gated = gate ? `gate AS (${gate.cte(28)}),\n     ` : '';
  const refusal = !refuse ? '' : `,
            CASE ${gate ? `WHEN NOT EXISTS (SELECT 1 FROM gate) THEN paygen_refuse('gate_closed')` : ''}
                 WHEN f.currency IS NULL THEN ${sideRefusal(1, 13)}
                 WHEN s.currency IS NULL THEN ${sideRefusal(7, 13)}
                 WHEN f.currency <> $20 OR s.currency <> $20 THEN paygen_refuse('currency_mismatch') END AS refused`;
  return `WITH ${gated}first AS (${sideUpdate(1, 13, gate ? '\n       AND EXISTS (SELECT 1 FROM gate)' : '')}),
     second AS (${sideUpdate(7, 13, '\n       AND EXISTS (SELECT 1 FROM first)')}),
     transfer AS (
       INSERT INTO ledger_transfers (${TRANSFER_COLUMNS})
       SELECT $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25,
              CASE WHEN $27::boolean THEN f.available ELSE s.available END,
              CASE WHEN $27::boolean THEN s.available ELSE f.available END, $26
         FROM first f, second s)
     SELECT f.currency AS first_currency, f.available AS first_available, s.currency AS second_currency, s.available AS second_available,
            ${gate ? 'EXISTS (SELECT 1 FROM gate)' : 'true'} AS gate_open${refusal}
       FROM (SELECT 1) one LEFT JOIN first f ON true LEFT JOIN second s ON true`;
}

/** A hold folded into another module's statement (holdFromSql): what it binds. */
export interface FoldedHold {
  id: string;
  organizationId: string;
  creditAccountId: string;
  amount: number;
  currency: string;
  code: string;
  referenceType: string;
  referenceId: string;
  description: string | null;
  at: Date;
}

/** holdFromSql's values, in its order: $first is the credit account. */
export function holdParams(h: FoldedHold, limit: number) {
  return [h.creditAccountId, h.amount, 0, 0, 0, h.amount, 0, 0, h.amount, 0, null, limit,
    h.id, h.organizationId, h.currency, h.code, h.referenceType, h.referenceId, h.description, h.at];
}

/**
 * A hold (pending transfer) as CTEs of another statement, whose debit account only SQL knows: the
 * column `debit` of the CTE `source` (say a card that statement locks). As applyTransfer does, the
 * two accounts are locked in ascending id order first (a locking read sorted by id: its rows are
 * locked in that order), then the guarded updates run, debit then credit, then the transfer row.
 * When the debit side cannot move (funds, a counter's limit) or `source` is empty, nothing is
 * written and the CTE `hold` is empty; when the debit moved but the credit could not, or either
 * account is in another currency, the statement fails (paygen_refuse).
 */
export function holdFromSql(source: string, debit: string, first: number) {
  const $ = (i: number) => `$${first + i}`;
  const debitId = `(SELECT ${debit} FROM ${source})`;
  // Both accounts must be the organization's (two rows locked), or neither side moves. The credit
  // side's update names its account by SQL too: its $i (first + 5) is the debit's guard, unused
  // there; its deltas and guard follow as sideUpdate expects.
  return `hold_accounts AS (
       SELECT id FROM ledger_accounts WHERE EXISTS (SELECT 1 FROM ${source}) AND organization_id = ${$(13)}::text
          AND (id = ${debitId} OR id = ${$(0)}::text)
        ORDER BY id FOR UPDATE),
     hold_debit AS (${sideUpdate(first, first + 11, '\n       AND (SELECT count(*) FROM hold_accounts) = 2', debitId)}),
     hold_credit AS (${sideUpdate(first + 5, first + 11, '\n       AND EXISTS (SELECT 1 FROM hold_debit)', `${$(0)}::text`)}),
     hold AS (
       INSERT INTO ledger_transfers (${TRANSFER_COLUMNS})
       SELECT ${$(12)}, ${$(13)}, 'pending', d.id, c.id, ${$(1)}, ${$(14)}, NULL, ${$(15)}, ${$(16)}, ${$(17)}, ${$(18)},
              d.available, c.available, ${$(19)}
         FROM hold_debit d LEFT JOIN hold_credit c ON true
        WHERE CASE WHEN c.id IS NULL THEN paygen_refuse('amount_limit_exceeded')
                   WHEN d.currency <> ${$(14)} OR c.currency <> ${$(14)} THEN paygen_refuse('currency_mismatch')
                   ELSE 0 END = 0
       RETURNING id)`;
}

export async function insertTransfer(db: Queryable, row: TransferRow) {
  await db.query(
    `INSERT INTO ledger_transfers (${TRANSFER_COLUMNS})
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
    [row.id, row.organization_id, row.kind, row.debit_account_id, row.credit_account_id, row.amount, row.currency,
      row.pending_id, row.code, row.reference_type, row.reference_id, row.description, row.debit_available_after,
      row.credit_available_after, row.created_at],
  );
}

export async function findTransfer(db: Queryable, organizationId: string, id: string) {
  const [row] = await db.query<TransferRow>('SELECT * FROM ledger_transfers WHERE organization_id = $1 AND id = $2', [organizationId, id]);
  return row;
}

/**
 * Currencies whose Σ debits and Σ credits differ (posted or pending), over the whole ledger or one
 * org. The sums can pass 2^53 across many accounts, so they are compared in SQL and leave as text.
 */
export function unbalancedCurrencies(db: Queryable, organizationId: string | null) {
  return db.query<{ currency: string; debits_posted: string; credits_posted: string; debits_pending: string; credits_pending: string }>(
    `SELECT currency, debits_posted::text, credits_posted::text, debits_pending::text, credits_pending::text
       FROM (SELECT currency, SUM(debits_posted) AS debits_posted, SUM(credits_posted) AS credits_posted,
                    SUM(debits_pending) AS debits_pending, SUM(credits_pending) AS credits_pending
               FROM ledger_accounts WHERE $1::text IS NULL OR organization_id = $1 GROUP BY currency) totals
      WHERE debits_posted <> credits_posted OR debits_pending <> credits_pending`,
    [organizationId],
  );
}

/** Accounts whose counters differ from what their transfers add up to. */
export function accountsOutOfBalance(db: Queryable, organizationId: string | null) {
  return db.query<{ id: string }>(
    `WITH effects AS (
       SELECT t.debit_account_id AS account_id,
              CASE t.kind WHEN 'pending' THEN t.amount WHEN 'single' THEN 0 ELSE -p.amount END AS debits_pending,
              CASE WHEN t.kind IN ('single', 'post') THEN t.amount ELSE 0 END AS debits_posted,
              0::bigint AS credits_pending, 0::bigint AS credits_posted
         FROM ledger_transfers t LEFT JOIN ledger_transfers p ON p.id = t.pending_id
        WHERE $1::text IS NULL OR t.organization_id = $1
       UNION ALL
       SELECT t.credit_account_id, 0, 0,
              CASE t.kind WHEN 'pending' THEN t.amount WHEN 'single' THEN 0 ELSE -p.amount END,
              CASE WHEN t.kind IN ('single', 'post') THEN t.amount ELSE 0 END
         FROM ledger_transfers t LEFT JOIN ledger_transfers p ON p.id = t.pending_id
        WHERE $1::text IS NULL OR t.organization_id = $1
     ), sums AS (
       SELECT account_id, SUM(debits_pending) AS dp, SUM(debits_posted) AS dpo,
              SUM(credits_pending) AS cp, SUM(credits_posted) AS cpo
         FROM effects GROUP BY account_id
     )
     SELECT a.id FROM ledger_accounts a LEFT JOIN sums s ON s.account_id = a.id
      WHERE ($1::text IS NULL OR a.organization_id = $1)
        AND (a.debits_pending <> COALESCE(s.dp, 0) OR a.debits_posted <> COALESCE(s.dpo, 0)
          OR a.credits_pending <> COALESCE(s.cp, 0) OR a.credits_posted <> COALESCE(s.cpo, 0))`,
    [organizationId],
  );
}

/** Transfers that touched one ledger account, newest first by default. */
export function listEntries(db: Queryable, organizationId: string, ledgerAccountId: string, query: ListQuery) {
  return paginate<TransferRow>(db, {
    table: 'ledger_transfers',
    organizationId,
    filters: {},
    conditions: [['(debit_account_id = ? OR credit_account_id = ?)', ledgerAccountId]],
    query,
    publicFilters: {},
  });
}
