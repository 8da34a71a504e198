// Reveal sessions: parameterized SQL only. The card itself is read through the cards services.
import type { Queryable } from '../../platform/db.ts';

export interface RevealSessionRow {
  id: string;
  organization_id: string;
  card_id: string;
  token_hash: string;
  allowed_origin: string | null;
  created_by_type: string;
  created_by_id: string;
  expires_at: Date;
  used_at: Date | null;
  created_at: Date;
}

export async function insertSession(db: Queryable, row: RevealSessionRow) {
  await db.query(
    `INSERT INTO card_reveal_sessions (id, organization_id, card_id, token_hash, allowed_origin,
       created_by_type, created_by_id, expires_at, used_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [row.id, row.organization_id, row.card_id, row.token_hash, row.allowed_origin,
      row.created_by_type, row.created_by_id, row.expires_at, row.used_at, row.created_at],
  );
}

/**
 * Claims a live session in one statement: of any number of concurrent claims of one token, the
 * database lets exactly one see `used_at IS NULL`, so the card is revealed at most once.
 */
export async function claimSession(db: Queryable, tokenHash: string, at: Date) {
  const [row] = await db.query<RevealSessionRow>(
    `UPDATE card_reveal_sessions SET used_at = $2
      WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING *`,
    [tokenHash, at],
  );
  return row;
}

/** A session by its token hash, live or not (to tell a used token from an expired or unknown one). */
export async function findSession(db: Queryable, tokenHash: string) {
  const [row] = await db.query<RevealSessionRow>(
    'SELECT * FROM card_reveal_sessions WHERE token_hash = $1', [tokenHash],
  );
  return row;
}
