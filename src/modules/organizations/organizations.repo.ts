import type { Queryable } from '../../platform/db.ts';
import { paginate, type ListQuery } from '../../platform/pagination.ts';

export interface OrganizationRow { id: string; name: string; created_at: Date }
export interface UserRow { id: string; organization_id: string; email: string; password_hash: string; created_at: Date }
export interface ApiKeyRow {
  id: string; organization_id: string; name: string; prefix: string; last_four: string; key_hash: string;
  /** Empty means every scope. */
  scopes: string[];
  created_at: Date; revoked_at: Date | null;
}
export interface TokenRow {
  id: string; organization_id: string; user_id: string | null; kind: 'session' | 'ephemeral'; scopes: string[]; expires_at: Date;
  /** The API key at the root of the token's chain, if a key (not a session) started it. */
  api_key_id: string | null;
  /** The token that made this one; null for sessions and tokens made by an API key. */
  parent_token_id: string | null;
  /** Tokens between this one and its session or API key (0 for a session or a key's token). */
  chain_depth: number;
}

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
    `INSERT INTO api_keys (id, organization_id, name, prefix, last_four, key_hash, scopes, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [row.id, row.organization_id, row.name, row.prefix, row.last_four, row.key_hash, JSON.stringify(row.scopes),
      row.created_at],
  );
}

export async function findApiKeyByHash(db: Queryable, hash: string) {
  const [row] = await db.query<ApiKeyRow>('SELECT * FROM api_keys WHERE key_hash = $1', [hash]);
  return row;
}

/**
 * Whether an organization requires signed changes, as a column of a credential lookup. It reads
 * the signing-keys module's table on purpose: every request authenticates, and folding this into
 * the same statement saves the signature check a round trip.
 */
const SIGNATURES_REQUIRED = (organizationColumn: string) =>
  `EXISTS (SELECT 1 FROM signing_keys sk WHERE sk.organization_id = ${organizationColumn}
     AND sk.required AND sk.deleted_at IS NULL) AS signatures_required`;

/** The API key a request presents, with its organization's signature policy (one statement). */
export async function findApiKeyForRequest(db: Queryable, hash: string) {
  const [row] = await db.query<ApiKeyRow & { signatures_required: boolean }>(
    `SELECT k.*, ${SIGNATURES_REQUIRED('k.organization_id')} FROM api_keys k WHERE k.key_hash = $1`, [hash]);
  return row;
}

export function listApiKeys(db: Queryable, organizationId: string, query: ListQuery) {
  return paginate<ApiKeyRow>(db, { table: 'api_keys', organizationId, filters: {}, query, publicFilters: {} });
}

export async function findApiKeyForUpdate(db: Queryable, organizationId: string, id: string) {
  const [row] = await db.query<ApiKeyRow>(
    'SELECT * FROM api_keys WHERE organization_id = $1 AND id = $2 FOR UPDATE', [organizationId, id]);
  return row;
}

export async function revokeApiKey(db: Queryable, organizationId: string, id: string, at: Date) {
  const [row] = await db.query<ApiKeyRow>(
    `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE organization_id = $1 AND id = $2 RETURNING *`,
    [organizationId, id, at],
  );
  return row;
}

/**
 * Revokes a token, or every token of an API key (a key's tokens and their descendants all carry
 * its id), and every token made from those, down the parent links.
 */
export async function revokeTokenTree(
  db: Queryable, organizationId: string, root: { tokenId?: string; apiKeyId?: string }, at: Date,
) {
  await db.query(
    `WITH RECURSIVE tree AS (
       SELECT id FROM access_tokens WHERE organization_id = $1 AND (id = $2 OR api_key_id = $3)
       UNION
       SELECT child.id FROM access_tokens child JOIN tree ON child.parent_token_id = tree.id
       WHERE child.organization_id = $1
     )
     UPDATE access_tokens SET revoked_at = $4
     WHERE organization_id = $1 AND id IN (SELECT id FROM tree) AND revoked_at IS NULL`,
    [organizationId, root.tokenId ?? null, root.apiKeyId ?? null, at],
  );
}

export async function insertToken(db: Queryable, row: TokenRow & { token_hash: string; created_at: Date }) {
  await db.query(
    `INSERT INTO access_tokens (id, organization_id, user_id, api_key_id, kind, token_hash, scopes, expires_at, created_at,
       parent_token_id, chain_depth)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [row.id, row.organization_id, row.user_id, row.api_key_id, row.kind, row.token_hash, JSON.stringify(row.scopes),
      row.expires_at, row.created_at, row.parent_token_id, row.chain_depth],
  );
}

/**
 * A token that is live itself, whose API key (if any) is not revoked and none of whose ancestors
 * is revoked. Revocation already cascades down; checking up the chain here as well means a token
 * minted while its parent was being revoked still dies with it. `maxDepth` bounds the walk.
 */
/** The live bearer token a request presents, with its organization's signature policy. */
export async function findLiveToken(db: Queryable, hash: string, now: Date, maxDepth: number) {
  const [row] = await db.query<TokenRow & { signatures_required: boolean }>(
    `WITH RECURSIVE ancestors AS (
       SELECT parent_token_id AS id, 1 AS steps FROM access_tokens
       WHERE token_hash = $1 AND parent_token_id IS NOT NULL
       UNION ALL
       SELECT parent.parent_token_id, ancestors.steps + 1 FROM access_tokens parent JOIN ancestors ON parent.id = ancestors.id
       WHERE parent.parent_token_id IS NOT NULL AND ancestors.steps < $3
     )
     SELECT token.*, ${SIGNATURES_REQUIRED('token.organization_id')}
     FROM access_tokens token LEFT JOIN api_keys owner_key ON owner_key.id = token.api_key_id
     WHERE token.token_hash = $1 AND token.revoked_at IS NULL AND token.expires_at > $2 AND owner_key.revoked_at IS NULL
       AND NOT EXISTS (
         SELECT 1 FROM access_tokens ancestor JOIN ancestors ON ancestor.id = ancestors.id WHERE ancestor.revoked_at IS NOT NULL
       )`,
    [hash, now, maxDepth],
  );
  return row;
}

export async function findToken(db: Queryable, organizationId: string, id: string) {
  const [row] = await db.query<TokenRow>(
    'SELECT * FROM access_tokens WHERE organization_id = $1 AND id = $2', [organizationId, id]);
  return row;
}
