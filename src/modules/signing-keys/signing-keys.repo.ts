// Parameterized SQL of signing keys and the nonces their signatures used.
import type { Queryable } from '../../platform/db.ts';
import { paginate, type ListQuery } from '../../platform/pagination.ts';

export interface SigningKeyRow {
  id: string;
  organization_id: string;
  key_id: string;
  algorithm: string;
  public_key_pem: string | null;
  secret_sealed: string | null;
  required: boolean;
  created_at: Date;
  deleted_at: Date | null;
}

/** Inserts the key; false when the organization already has a live key with this keyid. */
export async function insertKey(db: Queryable, row: Omit<SigningKeyRow, 'deleted_at'>): Promise<boolean> {
  const inserted = await db.query(
    `INSERT INTO signing_keys (id, organization_id, key_id, algorithm, public_key_pem, secret_sealed, required, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (organization_id, key_id) WHERE deleted_at IS NULL DO NOTHING RETURNING id`,
    [row.id, row.organization_id, row.key_id, row.algorithm, row.public_key_pem, row.secret_sealed, row.required, row.created_at],
  );
  return inserted.length === 1;
}

export async function findKey(db: Queryable, organizationId: string, id: string) {
  const [row] = await db.query<SigningKeyRow>(
    'SELECT * FROM signing_keys WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL',
    [organizationId, id],
  );
  return row;
}

export async function findByKeyId(db: Queryable, organizationId: string, keyId: string) {
  const [row] = await db.query<SigningKeyRow>(
    'SELECT * FROM signing_keys WHERE organization_id = $1 AND key_id = $2 AND deleted_at IS NULL',
    [organizationId, keyId],
  );
  return row;
}

export async function markDeleted(db: Queryable, organizationId: string, id: string, at: Date) {
  const [row] = await db.query<SigningKeyRow>(
    `UPDATE signing_keys SET deleted_at = $3 WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING *`,
    [organizationId, id, at],
  );
  return row;
}

export function listKeys(db: Queryable, organizationId: string, query: ListQuery) {
  return paginate<SigningKeyRow>(db, {
    table: '(SELECT * FROM signing_keys WHERE deleted_at IS NULL) AS live_signing_keys',
    organizationId, filters: {}, query, publicFilters: {},
  });
}

/**
 * Records a nonce; false when the key already saw it inside the window. Nonces whose window has
 * passed are dropped first: their signatures are refused by the clock check anyway.
 */
export async function rememberNonce(db: Queryable, organizationId: string, signingKeyId: string, nonce: string,
  expiresAt: Date, now: Date): Promise<boolean> {
  await db.query(
    'DELETE FROM signature_nonces WHERE organization_id = $1 AND signing_key_id = $2 AND expires_at < $3',
    [organizationId, signingKeyId, now],
  );
  const inserted = await db.query(
    `INSERT INTO signature_nonces (organization_id, signing_key_id, nonce, expires_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING RETURNING nonce`,
    [organizationId, signingKeyId, nonce, expiresAt],
  );
  return inserted.length === 1;
}
