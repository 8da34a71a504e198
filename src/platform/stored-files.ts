// Uploaded files kept in the database, with their metadata: card-holder documents (KYC) and
// dispute evidence. Both tables have one shape and differ only in the column naming their
// owner, so their SQL is written once here; each repo names its table and owner column.
import type { Queryable } from './db.ts';

/** A table of stored files and the column that names each file's owner (holder, dispute). */
export interface FileStore<Owner extends string> {
  table: string;
  owner: Owner;
}

/** A stored file without its content (what lists and responses need). */
export type StoredFile<Owner extends string> = {
  id: string;
  organization_id: string;
  kind: string;
  file_name: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  created_at: Date;
} & Record<Owner, string>;

const columns = (store: FileStore<string>) =>
  `id, organization_id, ${store.owner}, kind, file_name, content_type, size_bytes, sha256, created_at`;

export async function insertFile<O extends string>(db: Queryable, store: FileStore<O>, row: StoredFile<O>, content: Buffer) {
  await db.query(
    `INSERT INTO ${store.table} (${columns(store)}, content) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [row.id, row.organization_id, row[store.owner], row.kind, row.file_name, row.content_type, row.size_bytes, row.sha256,
      row.created_at, content],
  );
}

/** The files of several owners at once (a list page), oldest first. */
export function listFiles<O extends string>(db: Queryable, store: FileStore<O>, organizationId: string, ownerIds: string[]) {
  if (ownerIds.length === 0) return Promise.resolve([]);
  return db.query<StoredFile<O>>(
    `SELECT ${columns(store)} FROM ${store.table} WHERE organization_id = $1 AND ${store.owner} = ANY($2) ORDER BY id`,
    [organizationId, ownerIds],
  );
}

export async function countFiles(db: Queryable, store: FileStore<string>, organizationId: string, ownerId: string) {
  const [row] = await db.query<{ count: number }>(
    `SELECT COUNT(*)::bigint AS count FROM ${store.table} WHERE organization_id = $1 AND ${store.owner} = $2`,
    [organizationId, ownerId],
  );
  return row.count;
}

/** One file of one owner: its metadata, and its content when asked for (a download). */
export async function findFile<O extends string>(db: Queryable, store: FileStore<O>, organizationId: string, ownerId: string, id: string) {
  const [row] = await db.query<StoredFile<O>>(
    `SELECT ${columns(store)} FROM ${store.table} WHERE organization_id = $1 AND ${store.owner} = $2 AND id = $3`,
    [organizationId, ownerId, id],
  );
  return row;
}

export async function findFileContent<O extends string>(db: Queryable, store: FileStore<O>, organizationId: string, ownerId: string, id: string) {
  const [row] = await db.query<StoredFile<O> & { content: Uint8Array }>(
    `SELECT ${columns(store)}, content FROM ${store.table} WHERE organization_id = $1 AND ${store.owner} = $2 AND id = $3`,
    [organizationId, ownerId, id],
  );
  return row;
}
