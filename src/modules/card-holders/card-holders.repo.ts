import type { Queryable } from '../../platform/db.ts';
import * as files from '../../platform/stored-files.ts';
import { paginate, type ListQuery } from '../../platform/pagination.ts';
import type { KycStatus } from './card-holders.schemas.ts';

export interface CardHolderRow {
  id: string;
  organization_id: string;
  first_name: string;
  last_name: string;
  email: string | null;
  phone_number: string | null;
  date_of_birth: string | null;
  nationality: string | null;
  address_line1: string | null;
  address_line2: string | null;
  city: string | null;
  state: string | null;
  postal_code: string | null;
  country: string | null;
  spend_controls: unknown;
  kyc_status: KycStatus;
  program_id: string | null;
  kyc_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

/** KYC documents: stored files owned by a card holder (platform/stored-files.ts). */
const DOCUMENTS: files.FileStore<'card_holder_id'> = { table: 'documents', owner: 'card_holder_id' };

/** A document without its content (metadata is what lists and responses need). */
export type DocumentRow = files.StoredFile<'card_holder_id'>;

const HOLDER_COLUMNS = ['first_name', 'last_name', 'email', 'phone_number', 'date_of_birth', 'nationality', 'address_line1',
  'address_line2', 'city', 'state', 'postal_code', 'country', 'kyc_status', 'kyc_reason', 'spend_controls', 'program_id'] as const;
export type HolderChanges = Partial<Pick<CardHolderRow, (typeof HOLDER_COLUMNS)[number]>>;

export async function findCardHolder(db: Queryable, organizationId: string, id: string) {
  const [row] = await db.query<CardHolderRow>('SELECT * FROM card_holders WHERE organization_id = $1 AND id = $2', [organizationId, id]);
  return row;
}

/** Locks the holder for a change, so concurrent updates and uploads apply one after the other. */
export async function lockCardHolder(db: Queryable, organizationId: string, id: string) {
  const [row] = await db.query<CardHolderRow>('SELECT * FROM card_holders WHERE organization_id = $1 AND id = $2 FOR UPDATE', [organizationId, id]);
  return row;
}

export async function insertCardHolder(db: Queryable, row: CardHolderRow) {
  await db.query(
    `INSERT INTO card_holders (id, organization_id, first_name, last_name, email, phone_number, date_of_birth, nationality,
       address_line1, address_line2, city, state, postal_code, country, kyc_status, kyc_reason, created_at, updated_at, spend_controls,
       program_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
    [row.id, row.organization_id, row.first_name, row.last_name, row.email, row.phone_number, row.date_of_birth, row.nationality,
      row.address_line1, row.address_line2, row.city, row.state, row.postal_code, row.country, row.kyc_status, row.kyc_reason,
      row.created_at, row.updated_at, row.spend_controls == null ? null : JSON.stringify(row.spend_controls), row.program_id],
  );
}

/** Sets the given columns (an undefined value leaves the column as is; null clears it). */
export async function updateCardHolder(db: Queryable, organizationId: string, id: string, changes: HolderChanges, at: Date) {
  const params: unknown[] = [organizationId, id, at];
  const sets = ['updated_at = $3'];
  for (const column of HOLDER_COLUMNS) {
    if (changes[column] === undefined) continue;
    const value = changes[column];
    params.push(column === 'spend_controls' && value !== null ? JSON.stringify(value) : value);
    sets.push(`${column} = $${params.length}`);
  }
  await db.query(`UPDATE card_holders SET ${sets.join(', ')} WHERE organization_id = $1 AND id = $2`, params);
}

export function listCardHolders(db: Queryable, organizationId: string, query: ListQuery & { kycStatus?: string; email?: string }) {
  return paginate<CardHolderRow>(db, {
    table: 'card_holders', organizationId, query,
    filters: { kyc_status: query.kycStatus },
    conditions: query.email === undefined ? [] : [['lower(email) = lower(?)', query.email]],
    publicFilters: { kycStatus: query.kycStatus, email: query.email },
  });
}

export function insertDocument(db: Queryable, row: DocumentRow, content: Buffer) {
  return files.insertFile(db, DOCUMENTS, row, content);
}

/** The documents of several holders at once (a list page), oldest first. */
export function listDocuments(db: Queryable, organizationId: string, cardHolderIds: string[]) {
  return files.listFiles(db, DOCUMENTS, organizationId, cardHolderIds);
}

/** The kinds of document a holder has uploaded (each kind once). */
export async function documentKinds(db: Queryable, organizationId: string, cardHolderId: string) {
  const rows = await db.query<{ kind: string }>(
    'SELECT DISTINCT kind FROM documents WHERE organization_id = $1 AND card_holder_id = $2',
    [organizationId, cardHolderId],
  );
  return new Set(rows.map((r) => r.kind));
}

export function countDocuments(db: Queryable, organizationId: string, cardHolderId: string) {
  return files.countFiles(db, DOCUMENTS, organizationId, cardHolderId);
}

export function findDocument(db: Queryable, organizationId: string, cardHolderId: string, id: string) {
  return files.findFile(db, DOCUMENTS, organizationId, cardHolderId, id);
}

export function findDocumentContent(db: Queryable, organizationId: string, cardHolderId: string, id: string) {
  return files.findFileContent(db, DOCUMENTS, organizationId, cardHolderId, id);
}
