import type { Queryable } from '../../platform/db.ts';
import { paginate, type ListQuery } from '../../platform/pagination.ts';

export interface AccountRow {
  id: string;
  organization_id: string;
  ledger_account_id: string;
  owner_type: 'business' | 'individual';
  owner_id: string;
  name: string;
  type: 'checking' | 'savings' | 'wallet';
  category: string;
  currency: string;
  status: 'active' | 'frozen' | 'closed';
  created_at: Date;
  updated_at: Date;
  closed_at: Date | null;
}

/** An account joined with its ledger counters. */
export type AccountWithBalance = AccountRow & { credits_posted: number; debits_posted: number; debits_pending: number };

const WITH_BALANCE = `SELECT a.*, l.credits_posted, l.debits_posted, l.debits_pending
  FROM accounts a JOIN ledger_accounts l ON l.id = a.ledger_account_id`;

export async function insertAccount(db: Queryable, row: AccountRow) {
  await db.query(
    `INSERT INTO accounts (id, organization_id, ledger_account_id, owner_type, owner_id, name, type, category, currency, status, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [row.id, row.organization_id, row.ledger_account_id, row.owner_type, row.owner_id, row.name, row.type, row.category,
      row.currency, row.status, row.created_at, row.updated_at],
  );
}

/**
 * With `share`, the account row stays locked until commit, so a money movement that checked the
 * status cannot interleave with a freeze or close (which lock it FOR UPDATE).
 */
export async function findAccount(db: Queryable, organizationId: string, id: string, lock?: 'share') {
  const [row] = await db.query<AccountWithBalance>(
    `${WITH_BALANCE} WHERE a.organization_id = $1 AND a.id = $2${lock ? ' FOR SHARE OF a' : ''}`,
    [organizationId, id],
  );
  return row;
}

/**
 * findAccount(…, 'share') without the balance, as SQL for a caller that folds it into its own
 * statement: the organization in $`organizationParam`, the id in $`idParam`.
 */
export function lockedAccountSql(organizationParam: number, idParam: number) {
  return `SELECT a.* FROM accounts a WHERE a.organization_id = $${organizationParam} AND a.id = $${idParam} FOR SHARE`;
}

/** Locks the account row for a status change (not for money: the ledger guards balances). */
export async function lockAccount(db: Queryable, organizationId: string, id: string) {
  const [row] = await db.query<AccountRow>('SELECT * FROM accounts WHERE organization_id = $1 AND id = $2 FOR UPDATE', [organizationId, id]);
  return row;
}

export async function updateAccount(db: Queryable, organizationId: string, id: string, changes: { name?: string; status?: string; closed_at?: Date }, at: Date) {
  await db.query(
    `UPDATE accounts SET name = COALESCE($3, name), status = COALESCE($4, status), closed_at = COALESCE($5, closed_at), updated_at = $6
      WHERE organization_id = $1 AND id = $2`,
    [organizationId, id, changes.name ?? null, changes.status ?? null, changes.closed_at ?? null, at],
  );
}

export async function countOpenCards(db: Queryable, organizationId: string, accountId: string) {
  const [row] = await db.query<{ count: number }>(
    `SELECT COUNT(*)::bigint AS count FROM cards
      WHERE organization_id = $1 AND debit_account_id = $2 AND status NOT IN ('cancelled', 'expired', 'rejected')`,
    [organizationId, accountId],
  );
  return row.count;
}

export async function listAccounts(db: Queryable, organizationId: string, query: ListQuery & { status?: string; type?: string; currency?: string; ownerId?: string }) {
  const filters = { status: query.status, type: query.type, currency: query.currency, owner_id: query.ownerId };
  return paginate<AccountWithBalance>(db, {
    table: `(${WITH_BALANCE}) AS accounts_with_balance`, organizationId, filters, query,
    publicFilters: { status: query.status, type: query.type, currency: query.currency, ownerId: query.ownerId },
  });
}
