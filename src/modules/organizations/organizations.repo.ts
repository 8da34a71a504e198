import type { Queryable } from '../../platform/db.ts';
import { paginate, type ListQuery } from '../../platform/pagination.ts';

export interface OrganizationRow { id: string; name: string; created_at: Date }
export interface UserRow { id: string; organization_id: string; email: string; password_hash: string; created_at: Date }
export interface ApiKeyRow { id: string; organization_id: string; name: string; prefix: string; last_four: string; key_hash: string; created_at: Date; revoked_at: Date | null }
export interface TokenRow { id: string; organization_id: string; user_id: string | null; api_key_id: string | null; kind: 'session' | 'ephemeral'; scopes: string[]; expires_at: Date }

export async function insertOrganization(db: Queryable, row: OrganizationRow) {
  await db.query('INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)', [row.id, row.name, row.created_at]);
}

export async function findOrganization(db: Queryable, id: string) {
  const [row] = await db.query<OrganizationRow>('SELECT * FROM organizations WHERE id = $1', [id]);
  return row;
}

export async function firstOrganization(db: Queryable) {
  const [row] = await db.query<OrganizationRow>('SELECT * FROM organizations ORDER BY id LIMIT 1');
  return row;
}

/** Returns false when the email is taken (case-insensitively). */
export async function insertUser(db: Queryable, row: UserRow) {
  const inserted = await db.query(
    `INSERT INTO users (id, organization_id, email, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT DO NOTHING RETURNING id`,
    [row.id, row.organization_id, row.email, row.password_hash, row.created_at],
  );
  return inserted.length === 1;
}

export async function findUserByEmail(db: Queryable, email: string) {
  const [row] = await db.query<UserRow>('SELECT * FROM users WHERE lower(email) = lower($1)', [email]);
  return row;
}

export async function findUser(db: Queryable, id: string) {
  const [row] = await db.query<UserRow>('SELECT * FROM users WHERE id = $1', [id]);
  return row;
}

export async function insertApiKey(db: Queryable, row: ApiKeyRow) {
  await db.query(
    `INSERT INTO api_keys (id, organization_id, name, prefix, last_four, key_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [row.id, row.organization_id, row.name, row.prefix, row.last_four, row.key_hash, row.created_at],
  );
}

export async function findApiKeyByHash(db: Queryable, hash: string) {
  const [row] = await db.query<ApiKeyRow>('SELECT * FROM api_keys WHERE key_hash = $1', [hash]);
  return row;
}

export function listApiKeys(db: Queryable, organizationId: string, query: ListQuery) {
  return paginate<ApiKeyRow>(db, { table: 'api_keys', organizationId, filters: {}, query, publicFilters: {} });
}

export async function revokeApiKey(db: Queryable, organizationId: string, id: string, at: Date) {
  const [row] = await db.query<ApiKeyRow>(
    `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE organization_id = $1 AND id = $2 RETURNING *`,
    [organizationId, id, at],
  );
  if (row) await db.query('UPDATE access_tokens SET revoked_at = $2 WHERE api_key_id = $1 AND revoked_at IS NULL', [id, at]);
  return row;
}

export async function insertToken(db: Queryable, row: TokenRow & { token_hash: string; created_at: Date }) {
  await db.query(
    `INSERT INTO access_tokens (id, organization_id, user_id, api_key_id, kind, token_hash, scopes, expires_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [row.id, row.organization_id, row.user_id, row.api_key_id, row.kind, row.token_hash, JSON.stringify(row.scopes), row.expires_at, row.created_at],
  );
}

export async function findLiveToken(db: Queryable, hash: string, now: Date) {
  const [row] = await db.query<TokenRow>(
    'SELECT * FROM access_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2',
    [hash, now],
  );
  return row;
}

export async function revokeToken(db: Queryable, id: string, at: Date) {
  await db.query('UPDATE access_tokens SET revoked_at = $2 WHERE id = $1', [id, at]);
}
