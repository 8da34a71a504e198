// Parameterized SQL of disputes and their evidence files.
import type { Queryable } from '../../platform/db.ts';
import * as files from '../../platform/stored-files.ts';
import { paginate, type ListQuery } from '../../platform/pagination.ts';
import type { DisputeReason, DisputeStatus, EvidenceText } from './disputes.schemas.ts';

export interface DisputeRow {
  id: string;
  organization_id: string;
  transaction_id: string;
  card_id: string;
  status: DisputeStatus;
  reason: DisputeReason;
  amount: number;
  credited_amount: number;
  currency: string;
  evidence: EvidenceText;
  resolution_reason: string | null;
  created_at: Date;
  updated_at: Date;
  submitted_at: Date | null;
  resolved_at: Date | null;
}

/** Evidence files: stored files owned by a dispute (platform/stored-files.ts). */
const FILES: files.FileStore<'dispute_id'> = { table: 'dispute_files', owner: 'dispute_id' };

/** A file without its content (what responses need). */
export type FileRow = files.StoredFile<'dispute_id'>;
export async function insertDispute(db: Queryable, row: DisputeRow) {
  await db.query(
    `INSERT INTO disputes (id, organization_id, transaction_id, card_id, status, reason, amount, credited_amount, currency, evidence,
       resolution_reason, created_at, updated_at, submitted_at, resolved_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
    [row.id, row.organization_id, row.transaction_id, row.card_id, row.status, row.reason, row.amount, row.credited_amount, row.currency,
      JSON.stringify(row.evidence), row.resolution_reason, row.created_at, row.updated_at, row.submitted_at, row.resolved_at],
  );
}

export async function findDispute(db: Queryable, organizationId: string, id: string) {
  const [row] = await db.query<DisputeRow>('SELECT * FROM disputes WHERE organization_id = $1 AND id = $2', [organizationId, id]);
  return row;
}

export async function lockDispute(db: Queryable, organizationId: string, id: string) {
  const [row] = await db.query<DisputeRow>('SELECT * FROM disputes WHERE organization_id = $1 AND id = $2 FOR UPDATE', [organizationId, id]);
  return row;
}

/** How many disputes a transaction has, and whether one of them is open. */
export async function disputesOfTransaction(db: Queryable, organizationId: string, transactionId: string) {
  const [row] = await db.query<{ total: number; open: number }>(
    `SELECT COUNT(*)::bigint AS total, COUNT(*) FILTER (WHERE status IN ('unsubmitted', 'submitted'))::bigint AS open
       FROM disputes WHERE organization_id = $1 AND transaction_id = $2`,
    [organizationId, transactionId],
  );
  return row;
}

export interface DisputeChanges {
  status?: DisputeStatus;
  evidence?: EvidenceText;
  credited_amount?: number;
  resolution_reason?: string | null;
  submitted_at?: Date;
  resolved_at?: Date;
}

const CHANGE_COLUMNS = ['status', 'evidence', 'credited_amount', 'resolution_reason', 'submitted_at', 'resolved_at'] as const;

export async function updateDispute(db: Queryable, organizationId: string, id: string, changes: DisputeChanges, at: Date) {
  const params: unknown[] = [organizationId, id, at];
  const sets = ['updated_at = $3'];
  for (const column of CHANGE_COLUMNS) {
    if (changes[column] === undefined) continue;
    params.push(column === 'evidence' ? JSON.stringify(changes[column]) : changes[column]);
    sets.push(`${column} = $${params.length}`);
  }
  await db.query(`UPDATE disputes SET ${sets.join(', ')} WHERE organization_id = $1 AND id = $2`, params);
}

export type DisputeListFilters = { status?: string; reason?: string; transactionId?: string; cardId?: string };

export function listDisputes(db: Queryable, organizationId: string, query: ListQuery & DisputeListFilters) {
  return paginate<DisputeRow>(db, {
    table: 'disputes', organizationId, query,
    filters: { status: query.status, reason: query.reason, transaction_id: query.transactionId, card_id: query.cardId },
    publicFilters: { status: query.status, reason: query.reason, transactionId: query.transactionId, cardId: query.cardId },
  });
}

export function insertFile(db: Queryable, row: FileRow, content: Buffer) {
  return files.insertFile(db, FILES, row, content);
}

/** The files of several disputes at once (a list page), oldest first. */
export function listFiles(db: Queryable, organizationId: string, disputeIds: string[]) {
  return files.listFiles(db, FILES, organizationId, disputeIds);
}

export function countFiles(db: Queryable, organizationId: string, disputeId: string) {
  return files.countFiles(db, FILES, organizationId, disputeId);
}

export function findFileContent(db: Queryable, organizationId: string, disputeId: string, id: string) {
  return files.findFileContent(db, FILES, organizationId, disputeId, id);
}
