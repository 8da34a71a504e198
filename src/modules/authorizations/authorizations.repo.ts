// Parameterized SQL of authorizations. Every step locks the authorization row FOR UPDATE before it
// touches the holds listed on it, so a hold is resolved by exactly one step.
import type { Queryable } from '../../platform/db.ts';
import { paginate, type ListQuery } from '../../platform/pagination.ts';
import { refusalCode, type StatementPart } from '../../platform/statement-part.ts';
import type { CardRow } from '../cards/cards.repo.ts';
import type { HistoryEntry, Merchant } from './authorizations.schemas.ts';

/** An open hold of an authorization: the pending ledger transfer and its amount. */
export interface OpenHold {
  id: string;
  amount: number;
}

export interface AuthorizationRow {
  id: string;
  organization_id: string;
  card_id: string;
  card_holder_id: string | null;
  status: 'pending' | 'closed' | 'reversed' | 'expired' | 'declined';
  approved: boolean;
  decline_reason: string | null;
  requested_amount: number;
  approved_amount: number;
  held_amount: number;
  captured_amount: number;
  currency: string;
  merchant: Merchant;
  entry_mode: 'ecommerce' | 'contactless' | 'chip' | 'swipe';
  partial_approval_supported: boolean;
  decision_source: 'rules' | 'webhook' | 'webhook_timeout' | 'webhook_error';
  decision_latency_ms: number | null;
  network_id: string | null;
  hold_ids: OpenHold[];
  history: HistoryEntry[];
  created_at: Date;
  updated_at: Date;
  expires_at: Date | null;
}

const COLUMNS: Array<keyof AuthorizationRow> = [
  'id', 'organization_id', 'card_id', 'card_holder_id', 'status', 'approved', 'decline_reason', 'requested_amount',
  'approved_amount', 'held_amount', 'captured_amount', 'currency', 'merchant', 'entry_mode', 'partial_approval_supported',
  'decision_source', 'decision_latency_ms', 'network_id', 'hold_ids', 'history', 'created_at', 'updated_at', 'expires_at',
];
const JSON_COLUMNS = new Set<keyof AuthorizationRow>(['merchant', 'hold_ids', 'history']);

/** The unique index that makes a network message idempotent per organization (migration 007). */
const NETWORK_ID_INDEX = 'authorizations_network_id';

/**
 * Inserts the authorization. A network id already stored for the organization fails the statement,
 * so that the statements sent behind it fail too and the transaction cannot commit (db.ts
 * commitEarly), and comes back as undefined: the caller answers with the stored one.
 */
export async function insertAuthorization(db: Queryable, row: AuthorizationRow) {
  try {
    const [inserted] = await db.query<AuthorizationRow>(
      `INSERT INTO authorizations (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
      COLUMNS.map((c) => (JSON_COLUMNS.has(c) ? JSON.stringify(row[c]) : row[c])),
    );
    return inserted;
  } catch (error) {
    if (isDuplicateNetworkId(error)) return undefined;
    throw error;
  }
}

/** The statement failed because the organization already stored this network id. */
export function isDuplicateNetworkId(error: unknown) {
  const e = error as { code?: string; constraint?: string } | null;
  return e?.code === '23505' && e.constraint === NETWORK_ID_INDEX;
}

/**
 * The card of a one-statement authorization (insertForPlainCard), locked FOR UPDATE only when it
 * is a card on which every rule approves without reading anything else: usable (active, or digital
 * and the payment online: cardUsable), not expired at $4, in the request's currency, no budget, no
 * spend controls of its own, its program's or its holder's, and a program without a decision
 * webhook. $1 organization, $2 card, $3 entry mode, $4 now, $5 currency. The expiry instant is
 * computed without a time zone and read as UTC, as cardUsable does: a month added to a timestamptz
 * would follow the session's TimeZone (an hour off across a daylight-saving change).
 */
const PLAIN_CARD = `card AS (
       SELECT c.id, c.card_holder_id, c.ledger_account_id, p.hold_ttl_hours
         FROM cards c
         JOIN card_programs p ON p.organization_id = c.organization_id AND p.id = c.program_id
         LEFT JOIN card_holders h ON h.organization_id = c.organization_id AND h.id = c.card_holder_id
        WHERE c.organization_id = $1 AND c.id = $2
          AND (c.status = 'active' OR (c.status = 'digital' AND $3::text = 'ecommerce'))
          AND $4::timestamptz < (make_date(c.expiry_year, c.expiry_month, 1) + interval '1 month') AT TIME ZONE 'UTC'
          AND c.currency = $5::text AND c.budget_id IS NULL AND c.spend_controls IS NULL
          AND p.authorization_webhook IS NULL AND p.default_spend_controls IS NULL AND h.spend_controls IS NULL
          FOR UPDATE OF c)`;

/** What only the card tells of a one-statement authorization: its holder, and when its hold expires. */
const FROM_CARD: Array<keyof AuthorizationRow> = ['card_holder_id', 'expires_at'];
/** The columns a one-statement authorization binds: all the others. */
const SENT_COLUMNS = COLUMNS.filter((c) => !FROM_CARD.includes(c));

/**
 * The presented field that comes from the card's program, as jsonb over the CTE `source` (the
 * stored row): expiresAt, in toISOString's format (the hold's lifetime is whole hours, so the
 * milliseconds are created_at's).
 */
export const presentedFromCard = (source: string) =>
  `(SELECT jsonb_build_object('expiresAt', to_char(s.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) FROM ${source} s)`;

/**
 * Why insertForPlainCard wrote nothing: the card is not plain (or not the organization's), or it
 * is and its hold could not be made (funds, a counter's limit).
 */
export type PlainCardRefusal = 'card_not_plain' | 'hold_not_made';

export function plainCardRefusal(error: unknown): PlainCardRefusal | undefined {
  const code = refusalCode(error);
  return code === 'card_not_plain' || code === 'hold_not_made' ? code : undefined;
}

/**
 * An approved authorization in ONE statement (one round trip) on a plain card (PLAIN_CARD): the
 * card is locked, the hold's part (its CTE `hold`, debiting the card's ledger account) moves the
 * money, then the authorization row, whose holder and expiry come from the card and its program
 * (`row`'s are ignored), then the event's part over the CTE `stored`; each writes only when the one
 * before did. When nothing was stored the statement fails (paygen_refuse, plainCardRefusal says
 * why), so that its transaction rolls back and cannot be taken for the command's (an idempotency
 * key's marker). A network id already stored fails it too (23505 on authorizations_network_id).
 */
export async function insertForPlainCard(db: Queryable, row: AuthorizationRow, hold: StatementPart, event: StatementPart) {
  const params: unknown[] = [row.organization_id, row.card_id, row.entry_mode, row.created_at, row.currency];
  const holdSql = hold.sql('card', params.length + 1);
  params.push(...hold.params);
  const first = params.length + 1;
  params.push(...SENT_COLUMNS.map((c) => (JSON_COLUMNS.has(c) ? JSON.stringify(row[c]) : row[c])));
  const stored = `stored AS (
       INSERT INTO authorizations (${SENT_COLUMNS.join(', ')}, ${FROM_CARD.join(', ')})
       SELECT ${SENT_COLUMNS.map((_, i) => `$${first + i}`).join(', ')}, c.card_holder_id, $4::timestamptz + c.hold_ttl_hours * interval '1 hour'
         FROM card c WHERE EXISTS (SELECT 1 FROM hold)
       RETURNING id, ${FROM_CARD.join(', ')})`;
  const eventSql = event.sql('stored', params.length + 1);
  params.push(...event.params);
  const [result] = await db.query<Pick<AuthorizationRow, 'card_holder_id' | 'expires_at'>>(
    `WITH ${PLAIN_CARD}, ${holdSql}, ${stored}, ${eventSql}
     SELECT ${FROM_CARD.map((c) => `s.${c}`).join(', ')}, CASE WHEN s.id IS NOT NULL THEN 0
                      WHEN EXISTS (SELECT 1 FROM card) THEN paygen_refuse('hold_not_made')
                      ELSE paygen_refuse('card_not_plain') END AS refused
       FROM (SELECT 1) one LEFT JOIN stored s ON true`,
    params,
  );
  // The rest of the row is what was sent (jsonb keeps the values; the answer's schema orders keys).
  return { ...row, card_holder_id: result.card_holder_id, expires_at: result.expires_at };
}

/** A card locked for an authorization, with what the decision needs of its program and holder. */
export type LockedCard = CardRow & {
  program_has_webhook: boolean;
  program_spend_controls: unknown;
  program_hold_ttl_hours: number;
  holder_spend_controls: unknown;
  /** The ledger account of the card's debit account: a budget card's funding side. */
  debit_account_ledger_id: string;
};

/**
 * Locks the card (FOR UPDATE) and reads its program's and holder's decision inputs in the same
 * statement: one round trip instead of five. The program and holder rows are read, not locked,
 * as before (their changes apply from the next authorization on).
 */
export async function lockCardForAuthorization(db: Queryable, organizationId: string, cardId: string) {
  const [row] = await db.query<LockedCard>(
    `SELECT c.*, p.authorization_webhook IS NOT NULL AS program_has_webhook,
            p.default_spend_controls AS program_spend_controls, p.hold_ttl_hours AS program_hold_ttl_hours,
            h.spend_controls AS holder_spend_controls, a.ledger_account_id AS debit_account_ledger_id
       FROM cards c
       JOIN card_programs p ON p.organization_id = c.organization_id AND p.id = c.program_id
       JOIN accounts a ON a.organization_id = c.organization_id AND a.id = c.debit_account_id
       LEFT JOIN card_holders h ON h.organization_id = c.organization_id AND h.id = c.card_holder_id
      WHERE c.organization_id = $1 AND c.id = $2
        FOR UPDATE OF c`,
    [organizationId, cardId],
  );
  return row;
}

export async function findAuthorization(db: Queryable, organizationId: string, id: string, lock = false) {
  const [row] = await db.query<AuthorizationRow>(
    `SELECT * FROM authorizations WHERE organization_id = $1 AND id = $2${lock ? ' FOR UPDATE' : ''}`,
    [organizationId, id],
  );
  return row;
}

export async function findByNetworkId(db: Queryable, organizationId: string, networkId: string) {
  const [row] = await db.query<AuthorizationRow>(
    'SELECT * FROM authorizations WHERE organization_id = $1 AND network_id = $2',
    [organizationId, networkId],
  );
  return row;
}

export interface AuthorizationChanges {
  status?: AuthorizationRow['status'];
  approved_amount?: number;
  held_amount?: number;
  captured_amount?: number;
  hold_ids?: OpenHold[];
}

/** Applies one step: new figures, open holds, and one more history entry. */
export async function updateAuthorization(db: Queryable, organizationId: string, id: string, changes: AuthorizationChanges, entry: HistoryEntry, at: Date) {
  const [row] = await db.query<AuthorizationRow>(
    `UPDATE authorizations SET status = COALESCE($3, status), approved_amount = COALESCE($4::bigint, approved_amount),
            held_amount = COALESCE($5::bigint, held_amount), captured_amount = COALESCE($6::bigint, captured_amount),
            hold_ids = COALESCE($7::jsonb, hold_ids), history = history || $8::jsonb, updated_at = $9
      WHERE organization_id = $1 AND id = $2 RETURNING *`,
    [organizationId, id, changes.status ?? null, changes.approved_amount ?? null, changes.held_amount ?? null,
      changes.captured_amount ?? null, changes.hold_ids ? JSON.stringify(changes.hold_ids) : null, JSON.stringify([entry]), at],
  );
  return row;
}

export function listAuthorizations(db: Queryable, organizationId: string, query: ListQuery & { cardId?: string; status?: string }) {
  return paginate<AuthorizationRow>(db, {
    table: 'authorizations',
    organizationId,
    filters: { card_id: query.cardId, status: query.status },
    query,
    publicFilters: { cardId: query.cardId, status: query.status },
  });
}

/**
 * Approved spend of one card (or of every card of one card holder) between `from` and `to`: holds
 * still open at their held amount, captures at their captured amount, plus force captures. The
 * sum can pass 2^53 (a card holder's cards over several currencies), so it is capped at `cap` in
 * SQL: every spend limit is far smaller, so the cap never changes a decision.
 */
export async function spendBetween(db: Queryable, organizationId: string, scope: { cardId: string } | { cardHolderId: string }, from: Date, to: Date, cap: number) {
  const [column, value] = 'cardId' in scope ? ['card_id', scope.cardId] : ['card_holder_id', scope.cardHolderId];
  const [row] = await db.query<{ spent: number }>(
    `SELECT LEAST(COALESCE((SELECT SUM(held_amount + captured_amount) FROM authorizations
                        WHERE organization_id = $1 AND ${column} = $2 AND approved AND created_at >= $3 AND created_at <= $4), 0)
           + COALESCE((SELECT SUM(amount) FROM transactions
                        WHERE organization_id = $1 AND ${column} = $2 AND type = 'force_capture' AND created_at >= $3 AND created_at <= $4), 0),
           $5::bigint)::bigint AS spent`,
    [organizationId, value, from, to, cap],
  );
  return row.spent;
}

/**
 * Claims open authorizations past their expiry for the sweeper. SKIP LOCKED passes over rows a
 * capture, reversal or another sweeper holds, so two workers never claim the same one; the claim
 * lasts until the caller's transaction ends.
 */
export function claimExpired(db: Queryable, now: Date, limit: number, organizationId: string | null = null) {
  return db.query<AuthorizationRow>(
    `SELECT * FROM authorizations WHERE status = 'pending' AND expires_at <= $1
        AND ($3::text IS NULL OR organization_id = $3)
      ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [now, limit, organizationId],
  );
}

/** Pending authorizations past their expiresAt: the expiry sweeper's queue depth. */
export async function countExpired(db: Queryable, now: Date): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM authorizations WHERE status = 'pending' AND expires_at <= $1`, [now],
  );
  return rows[0]?.n ?? 0;
}

/** A savepoint lets a forced capture try the guarded debit and fall back without aborting. */
export async function savepoint(db: Queryable, name: string) {
  await db.query(`SAVEPOINT ${name}`);
}

export async function rollbackTo(db: Queryable, name: string) {
  await db.query(`ROLLBACK TO SAVEPOINT ${name}`);
}
