// PIN storage and hosted PIN page sessions: parameterized SQL only. Of the card, only pin_hash
// (and updated_at) is written here; the card is read and locked through the cards services.
import type { Queryable } from '../../platform/db.ts';

/**
 * The card columns this module writes: the PIN's keyed hash and its wrong-try count (the card row
 * is locked by the caller). A new PIN starts with no wrong tries and unblocked.
 */
export async function storePinHash(db: Queryable, organizationId: string, id: string, pinHash: string, at: Date) {
  await db.query(
    `UPDATE cards SET pin_hash = $3, pin_failed_attempts = 0, pin_blocked_at = NULL, updated_at = $4
      WHERE organization_id = $1 AND id = $2`,
    [organizationId, id, pinHash, at],
  );
}

/** Records the outcome of a PIN try: the count of wrong tries in a row, and the block if any. */
export async function storePinTries(db: Queryable, organizationId: string, id: string, failedAttempts: number, blockedAt: Date | null) {
  await db.query(
    'UPDATE cards SET pin_failed_attempts = $3, pin_blocked_at = $4 WHERE organization_id = $1 AND id = $2',
    [organizationId, id, failedAttempts, blockedAt],
  );
}

export interface PinSessionRow {
  id: string;
  organization_id: string;
  card_id: string;
  token_hash: string;
  expires_at: Date;
  used_at: Date | null;
  created_at: Date;
}

export async function insertSession(db: Queryable, row: PinSessionRow) {
  await db.query(
    `INSERT INTO card_pin_sessions (id, organization_id, card_id, token_hash, expires_at, used_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [row.id, row.organization_id, row.card_id, row.token_hash, row.expires_at, row.used_at, row.created_at],
  );
}

/** Ends the card's open sessions (a new link replaces the old ones): they expire now. */
export async function expireOpenSessions(db: Queryable, organizationId: string, cardId: string, at: Date) {
  await db.query(
    `UPDATE card_pin_sessions SET expires_at = $3
      WHERE organization_id = $1 AND card_id = $2 AND used_at IS NULL AND expires_at > $3`,
    [organizationId, cardId, at],
  );
}

/** An unused, unexpired session by its token hash; locked when `lock` (the PIN is being set). */
export async function findLiveSession(db: Queryable, tokenHash: string, at: Date, lock: boolean) {
  const [row] = await db.query<PinSessionRow>(
    `SELECT * FROM card_pin_sessions WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2${lock ? ' FOR UPDATE' : ''}`,
    [tokenHash, at],
  );
  return row;
}

export async function markSessionUsed(db: Queryable, organizationId: string, id: string, at: Date) {
  await db.query('UPDATE card_pin_sessions SET used_at = $3 WHERE organization_id = $1 AND id = $2', [organizationId, id, at]);
}
