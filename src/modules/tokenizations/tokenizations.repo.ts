// Wallet tokenizations: parameterized SQL only. The card row is read here (status only, locked)
// until cards.service offers a locked read of its own.
import type { Queryable } from '../../platform/db.ts';
import { paginate, type ListQuery } from '../../platform/pagination.ts';
import type { TokenizationStatus, WalletType } from './tokenizations.schemas.ts';

export interface TokenizationRow {
  id: string;
  organization_id: string;
  card_id: string;
  wallet_type: WalletType;
  dpan_ref: string;
  wallet_id: string | null;
  status: TokenizationStatus;
  status_before_card_suspension: 'initiated' | 'completed' | null;
  created_at: Date;
  updated_at: Date;
}

/** A changed token with the status it had before the change (for the event's previousAttributes). */
export type ChangedRow = TokenizationRow & { previous_status: TokenizationStatus };

/** The card's status, its row locked so that tokens and a status change never interleave. */
export async function lockCardStatus(db: Queryable, organizationId: string, cardId: string) {
  const [row] = await db.query<{ status: string }>('SELECT status FROM cards WHERE organization_id = $1 AND id = $2 FOR UPDATE', [organizationId, cardId]);
  return row?.status;
}

export async function cardExists(db: Queryable, organizationId: string, cardId: string) {
  return (await db.query('SELECT 1 FROM cards WHERE organization_id = $1 AND id = $2', [organizationId, cardId])).length === 1;
}

export async function countForCard(db: Queryable, organizationId: string, cardId: string) {
  const [row] = await db.query<{ count: number }>('SELECT count(*)::int AS count FROM card_tokenizations WHERE organization_id = $1 AND card_id = $2', [organizationId, cardId]);
  return row.count;
}

export async function insertTokenization(db: Queryable, row: TokenizationRow) {
  await db.query(
    `INSERT INTO card_tokenizations (id, organization_id, card_id, wallet_type, dpan_ref, wallet_id, status, status_before_card_suspension, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [row.id, row.organization_id, row.card_id, row.wallet_type, row.dpan_ref, row.wallet_id, row.status, row.status_before_card_suspension, row.created_at, row.updated_at],
  );
}

/**
 * One status change over a card's tokens: `set` is the SET list (it may read `old.status`), `where`
 * picks the tokens. The old status comes back beside each row, read under the row lock.
 */
async function change(db: Queryable, organizationId: string, cardId: string, set: string, where: string, at: Date) {
  return db.query<ChangedRow>(
    `WITH old AS (
       SELECT id, status FROM card_tokenizations WHERE organization_id = $1 AND card_id = $2 AND ${where} FOR UPDATE
     )
     UPDATE card_tokenizations t SET ${set}, updated_at = $3 FROM old
      WHERE t.organization_id = $1 AND t.id = old.id
     RETURNING t.*, old.status AS previous_status`,
    [organizationId, cardId, at],
  );
}

/** Live tokens of a card that was locked or suspended: suspended, remembering their status. */
export function suspendForCard(db: Queryable, organizationId: string, cardId: string, at: Date) {
  return change(db, organizationId, cardId, "status = 'suspended', status_before_card_suspension = old.status",
    "status IN ('initiated', 'completed')", at);
}

/** Tokens the card suspended go back to the status they had; others stay as they are. */
export function resumeForCard(db: Queryable, organizationId: string, cardId: string, at: Date) {
  return change(db, organizationId, cardId, 'status = t.status_before_card_suspension, status_before_card_suspension = NULL',
    "status = 'suspended' AND status_before_card_suspension IS NOT NULL", at);
}

/**
 * A renewal or a damaged card's replacement: the live tokens move to the new card (the wallet's
 * token lifecycle update), those the old card suspended come back with their earlier status.
 */
export function moveToCard(db: Queryable, organizationId: string, fromCardId: string, toCardId: string, at: Date) {
  return db.query<ChangedRow>(
    `WITH old AS (
       SELECT id, status FROM card_tokenizations
        WHERE organization_id = $1 AND card_id = $2 AND status <> 'terminated' FOR UPDATE
     )
     UPDATE card_tokenizations t
        SET card_id = $4, status = COALESCE(t.status_before_card_suspension, t.status),
            status_before_card_suspension = NULL, updated_at = $3
       FROM old
      WHERE t.organization_id = $1 AND t.id = old.id
     RETURNING t.*, old.status AS previous_status`,
    [organizationId, fromCardId, at, toCardId],
  );
}

export function terminateForCard(db: Queryable, organizationId: string, cardId: string, at: Date) {
  return change(db, organizationId, cardId, "status = 'terminated', status_before_card_suspension = NULL", "status <> 'terminated'", at);
}

export function listForCard(db: Queryable, organizationId: string, cardId: string, query: ListQuery & { status?: string; walletType?: string }) {
  return paginate<TokenizationRow>(db, {
    table: 'card_tokenizations',
    organizationId,
    filters: { card_id: cardId, status: query.status, wallet_type: query.walletType },
    query,
    publicFilters: { status: query.status, walletType: query.walletType },
  });
}

export function listForCards(db: Queryable, organizationId: string, cardIds: string[]) {
  return db.query<TokenizationRow>(
    'SELECT * FROM card_tokenizations WHERE organization_id = $1 AND card_id = ANY($2::text[]) ORDER BY card_id, id',
    [organizationId, cardIds],
  );
}
