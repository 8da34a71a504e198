import type { Queryable } from '../../platform/db.ts';
import { paginate, type ListQuery } from '../../platform/pagination.ts';
import type { TokenizationRow } from '../tokenizations/tokenizations.repo.ts';
import type { CardStatus } from './cards.schemas.ts';
import type { StatementPart } from '../../platform/statement-part.ts';
import type { AccountRow } from '../accounts/accounts.service.ts';
import type { ProgramRow } from '../card-programs/card-programs.service.ts';

export interface CardRow {
  id: string;
  organization_id: string;
  program_id: string;
  card_holder_id: string | null;
  debit_account_id: string;
  budget_id: string | null;
  ledger_account_id: string;
  type: 'virtual' | 'physical';
  brand: 'Visa' | 'Mastercard';
  currency: string;
  status: CardStatus;
  pan_ciphertext: string;
  pan_key_id: string;
  /** The PAN's data key wrapped by the master key pan_key_id; null for rows sealed before 014. */
  pan_data_key: string | null;
  pan_hash: string;
  bin: string;
  last_four: string;
  expiry_month: number;
  expiry_year: number;
  pin_hash: string | null;
  /** Wrong PINs in a row at the point of sale; the third blocks the PIN until a new one is set. */
  pin_failed_attempts: number;
  pin_blocked_at: Date | null;
  label: string | null;
  external_id: string | null;
  mobile: string | null;
  first_name: string | null;
  last_name: string | null;
  delivery_address: unknown;
  shipping: unknown;
  spend_controls: unknown;
  metadata: unknown;
  user_agent: string | null;
  created_at: Date;
  updated_at: Date;
  activated_at: Date | null;
  cancelled_at: Date | null;
  replaces_card_id: string | null;
  replaced_by_card_id: string | null;
  replacement_reason: string | null;
}

/** A card with its program name and ledger counters, as every read returns it. */
export type CardView = CardRow & { program_name: string; credits_posted: number; debits_posted: number; debits_pending: number };

const VIEW = `SELECT c.*, p.name AS program_name, l.credits_posted, l.debits_posted, l.debits_pending
  FROM cards c JOIN card_programs p ON p.id = c.program_id JOIN ledger_accounts l ON l.id = c.ledger_account_id`;
const JSON_COLUMNS = new Set(['delivery_address', 'shipping', 'spend_controls', 'metadata']);

/** The card's own columns its answer is made of (the presenter's inputs): no PAN ciphertext or key. */
const SHOWN_CARD_COLUMNS = ['id', 'status', 'type', 'brand', 'currency', 'program_id', 'card_holder_id', 'debit_account_id',
  'budget_id', 'first_name', 'last_name', 'bin', 'last_four', 'expiry_month', 'expiry_year', 'pin_hash', 'pin_blocked_at',
  'label', 'external_id', 'mobile', 'delivery_address', 'shipping', 'spend_controls', 'metadata', 'replaces_card_id',
  'replaced_by_card_id', 'created_at', 'updated_at', 'activated_at', 'cancelled_at'] as const;
const LEDGER_COUNTERS = ['credits_posted', 'debits_posted', 'debits_pending'] as const;
export type CardShown = Pick<CardView, (typeof SHOWN_CARD_COLUMNS)[number] | (typeof LEDGER_COUNTERS)[number] | 'program_name'>;
/** A listed card: what it shows and its wallet tokenizations (oldest first). */
export type CardListRow = CardShown & { tokenizations: TokenizationRow[] };

/** Returns false when the PAN already exists in the program (the caller draws another). */
export async function insertCard(db: Queryable, row: CardRow): Promise<boolean> {
  const columns = Object.keys(row) as Array<keyof CardRow>;
  const inserted = await db.query(
    `INSERT INTO cards (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})
     ON CONFLICT (program_id, pan_hash) DO NOTHING RETURNING id`,
    columns.map((c) => (JSON_COLUMNS.has(c) && row[c] !== null ? JSON.stringify(row[c]) : row[c])),
  );
  return inserted.length === 1;
}

/** The funding account's columns that issuance needs, as read under its FOR SHARE lock. */
export type FundingAccount = Pick<AccountRow, 'id' | 'ledger_account_id' | 'status' | 'currency'>;

/**
 * The program (the card-programs module's lookup) and the funding account (the accounts module's
 * FOR SHARE read), in one round trip. Each is undefined when there is none; the caller checks them
 * in the order the errors have always come in. `program` binds the organization in $1.
 */
export async function findProgramAndAccount(
  db: Queryable, program: { sql: string; params: unknown[] }, lockedAccount: (organizationParam: number, idParam: number) => string, accountId: string,
) {
  type Funding = { funding_id: string | null; funding_ledger_account_id: string; funding_status: AccountRow['status']; funding_currency: string };
  const [row] = await db.query<ProgramRow & Funding>(
    `WITH program AS (${program.sql}), account AS (${lockedAccount(1, program.params.length + 1)})
     SELECT program.*, account.id AS funding_id, account.ledger_account_id AS funding_ledger_account_id,
            account.status AS funding_status, account.currency AS funding_currency
       FROM (SELECT 1) AS one LEFT JOIN program ON true LEFT JOIN account ON true`,
    [...program.params, accountId],
  );
  const { funding_id: id, funding_ledger_account_id: ledgerAccountId, funding_status: status, funding_currency: currency, ...found } = row;
  return {
    program: found.id === null ? undefined : found as ProgramRow,
    account: id === null ? undefined : { id, ledger_account_id: ledgerAccountId, status, currency } as FundingAccount,
  };
}

/**
 * insertCard with the card's ledger account and its card.created event (each module's part) in
 * the same statement: one round trip. When the PAN is taken in the program, nothing is written
 * (the parts write only for a row of the CTE `card`) and undefined comes back. Foreign keys are
 * checked at the end of the statement, so the card may name the ledger account inserted after it.
 * The JSON columns come back as the database stores them, for the answer to match later reads.
 */
export async function insertCardWith(db: Queryable, row: CardRow, parts: StatementPart[]) {
  const columns = Object.keys(row) as Array<keyof CardRow>;
  const params: unknown[] = columns.map((c) => (JSON_COLUMNS.has(c) && row[c] !== null ? JSON.stringify(row[c]) : row[c]));
  const ctes = parts.map((part) => {
    const sql = part.sql('card', params.length + 1);
    params.push(...part.params);
    return sql;
  });
  const [inserted] = await db.query<Pick<CardRow, 'delivery_address' | 'shipping' | 'spend_controls' | 'metadata'>>(
    `WITH card AS (
       INSERT INTO cards (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})
       ON CONFLICT (program_id, pan_hash) DO NOTHING RETURNING ${[...JSON_COLUMNS].join(', ')}
     ), ${ctes.join(', ')}
     SELECT * FROM card`,
    params,
  );
  return inserted;
}

export async function findCard(db: Queryable, organizationId: string, id: string) {
  const [row] = await db.query<CardView>(`${VIEW} WHERE c.organization_id = $1 AND c.id = $2`, [organizationId, id]);
  return row;
}

export interface CardFilters { status?: string; type?: string; currency?: string; cardHolderId?: string; accountId?: string; programId?: string; externalId?: string }

/**
 * A page of the list is one statement on the cards table alone: the program's name, the ledger
 * counters and the wallet tokenizations (as JSON) come from subqueries. PostgreSQL plans a page on
 * every request, prepared or not (a generic plan is costed for a LIMIT it cannot see), and planning
 * VIEW's three-table join cost more than running it; a second statement for the tokenizations cost
 * a round trip (issue 10). The values are VIEW's: every card has its program and ledger account.
 */
const LIST_COLUMNS = [
  ...SHOWN_CARD_COLUMNS.map((column) => `c.${column}`),
  '(SELECT p.name FROM card_programs p WHERE p.id = c.program_id) AS program_name',
  ...LEDGER_COUNTERS.map((counter) => `(SELECT l.${counter} FROM ledger_accounts l WHERE l.id = c.ledger_account_id) AS ${counter}`),
  `(SELECT json_agg(t ORDER BY t.id) FROM card_tokenizations t
    WHERE t.organization_id = c.organization_id AND t.card_id = c.id) AS tokenizations`,
].join(', ');

type TokenizationJson = Omit<TokenizationRow, 'created_at' | 'updated_at'> & { created_at: string; updated_at: string };

export async function listCards(db: Queryable, organizationId: string, query: ListQuery & CardFilters) {
  const page = await paginate<CardShown & { tokenizations: TokenizationJson[] | null }>(db, {
    table: 'cards c',
    columns: LIST_COLUMNS,
    // Cursors name the list as it was read before (from VIEW), so those handed out stay valid.
    cursorScope: `(${VIEW}) AS card_views`,
    organizationId,
    filters: {
      status: query.status, type: query.type, currency: query.currency, card_holder_id: query.cardHolderId,
      debit_account_id: query.accountId, program_id: query.programId, external_id: query.externalId,
    },
    query,
    publicFilters: {
      status: query.status, type: query.type, currency: query.currency, cardHolderId: query.cardHolderId,
      accountId: query.accountId, programId: query.programId, externalId: query.externalId,
    },
  });
  // JSON carries timestamps as ISO 8601 text with an offset; the rows carry Dates, as pg reads them.
  const rows: CardListRow[] = page.rows.map((row) => ({
    ...row,
    tokenizations: (row.tokenizations ?? []).map((t) => ({ ...t, created_at: new Date(t.created_at), updated_at: new Date(t.updated_at) })),
  }));
  return { ...page, rows };
}

/** Locks the card row for a status or funds change; the view is read after the lock. */
export async function lockCard(db: Queryable, organizationId: string, id: string) {
  const [row] = await db.query<CardRow>('SELECT * FROM cards WHERE organization_id = $1 AND id = $2 FOR UPDATE', [organizationId, id]);
  return row;
}

export type CardChanges = Partial<Pick<CardRow, 'status' | 'label' | 'spend_controls' | 'metadata' | 'shipping' | 'activated_at' | 'cancelled_at'>> & {
  replaced_by_card_id?: string;
  replacement_reason?: string;
};

export async function updateCard(db: Queryable, organizationId: string, id: string, changes: CardChanges, at: Date) {
  const columns = Object.keys(changes) as Array<keyof CardChanges>;
  await db.query(
    `UPDATE cards SET ${[...columns.map((c, i) => `${c} = $${i + 3}`), `updated_at = $${columns.length + 3}`].join(', ')}
      WHERE organization_id = $1 AND id = $2`,
    [organizationId, id, ...columns.map((c) => (JSON_COLUMNS.has(c) && changes[c] !== null ? JSON.stringify(changes[c]) : changes[c])), at],
  );
}

export interface StatusChangeRow {
  id: string;
  organization_id: string;
  card_id: string;
  action: string;
  from_status: string;
  to_status: string;
  actor: string;
  reason: string | null;
  created_at: Date;
}

export async function insertStatusChange(db: Queryable, row: StatusChangeRow) {
  await db.query(
    `INSERT INTO card_status_changes (id, organization_id, card_id, action, from_status, to_status, actor, reason, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [row.id, row.organization_id, row.card_id, row.action, row.from_status, row.to_status, row.actor, row.reason, row.created_at],
  );
}

/** The status the card had before it entered `status` most recently. */
export async function statusBefore(db: Queryable, organizationId: string, cardId: string, status: string) {
  const [row] = await db.query<{ from_status: string }>(
    `SELECT from_status FROM card_status_changes WHERE organization_id = $1 AND card_id = $2 AND to_status = $3
      ORDER BY id DESC LIMIT 1`,
    [organizationId, cardId, status],
  );
  return row?.from_status ?? null;
}

export function listStatusChanges(db: Queryable, organizationId: string, cardId: string, query: ListQuery) {
  return paginate<StatusChangeRow>(db, { table: 'card_status_changes', organizationId, filters: { card_id: cardId }, query, publicFilters: {} });
}
