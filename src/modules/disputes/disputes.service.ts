// Disputes: a card holder contests a capture or force capture of one of the organization's cards.
// A dispute is `unsubmitted` while evidence is added, `submitted` once sent to the network, then
// the network (the simulator) decides `won` or `lost`. Each step is one transaction with its event.
//
// Money (DESIGN §3): submitting moves the disputed amount from network settlement to the
// organization's dispute suspense account (the chargeback is presented); winning credits the card
// from suspense; losing returns it to settlement. Suspense therefore holds exactly the amounts of
// submitted disputes.
//
// Refunds and disputes never pay twice: a transaction's refunds (with its transactionId) and its
// won dispute credits together never exceed its amount. A refund that arrives while a dispute is
// open is credited at once; the dispute, if won, then credits only what the refunds left
// (`creditedAmount`), and the rest of the suspense goes back to settlement. A refund after a won
// dispute is refused beyond what is left (422 refund_exceeds_transaction).
import type { Ctx } from '../../platform/context.ts';
import type { Queryable } from '../../platform/db.ts';
import { ApiError, notFound, unprocessable } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import type { Upload } from '../../platform/multipart.ts';
import type { ListQuery } from '../../platform/pagination.ts';
import { fundingAccountId, settlementAccountId } from '../authorizations/funding.ts';
import { checkFiles, type CheckedFile } from '../card-holders/uploads.ts';
import { afterHoldReleased, lockCard } from '../cards/card-lifecycle.service.ts';
import { recordEvent } from '../events/events.service.ts';
import type { EventType } from '../events/events.catalog.ts';
import * as ledger from '../ledger/ledger.service.ts';
import * as transactions from '../transactions/transactions.service.ts';
import * as repo from './disputes.repo.ts';
import {
  EVIDENCE_FILE_KINDS, EVIDENCE_TEXT_FIELDS, type CreateDisputeBody, type Dispute, type EvidenceBody, type EvidenceFile,
  type EvidenceText, type ResolveDisputeBody,
} from './disputes.schemas.ts';

/** How long after clearing a transaction can be disputed (the networks' usual limit). */
export const DISPUTE_WINDOW_DAYS = 120;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Disputes one transaction may have in all (one open at a time). */
export const MAX_DISPUTES_PER_TRANSACTION = 5;
/** Evidence files kept per dispute: each is up to 10 MiB stored in the database. */
export const MAX_EVIDENCE_FILES = 20;
const DATE_FIELDS = new Set(['merchantContactedAt', 'canceledAt', 'returnedAt']);

function presentFile(row: repo.FileRow): EvidenceFile {
  return {
    id: row.id, kind: row.kind as EvidenceFile['kind'], fileName: row.file_name, contentType: row.content_type as EvidenceFile['contentType'],
    sizeBytes: row.size_bytes, sha256: row.sha256, createdAt: row.created_at.toISOString(),
  };
}

export function present(row: repo.DisputeRow, files: repo.FileRow[]): Dispute {
  const e = row.evidence;
  return {
    id: row.id, transactionId: row.transaction_id, cardId: row.card_id, status: row.status, reason: row.reason, amount: row.amount,
    creditedAmount: row.credited_amount, currency: row.currency,
    evidence: {
      explanation: e.explanation ?? '', productDescription: e.productDescription ?? null, merchantContactedAt: e.merchantContactedAt ?? null,
      trackingNumber: e.trackingNumber ?? null, canceledAt: e.canceledAt ?? null, returnedAt: e.returnedAt ?? null,
      files: files.filter((f) => f.dispute_id === row.id).map(presentFile),
    },
    resolutionReason: row.resolution_reason, createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString(),
    submittedAt: row.submitted_at?.toISOString() ?? null, resolvedAt: row.resolved_at?.toISOString() ?? null,
  };
}

async function load(db: Queryable, organizationId: string, id: string) {
  const row = await repo.findDispute(db, organizationId, id);
  if (!row) throw notFound('Dispute');
  return present(row, await repo.listFiles(db, organizationId, [id]));
}

async function record(
  tx: Queryable, organizationId: string, type: EventType, dispute: Dispute, at: Date, previousAttributes?: Record<string, unknown>,
) {
  await recordEvent(tx, { organizationId, type, resourceId: dispute.id, data: dispute, previousAttributes, at });
}

/** The text fields of an evidence body, dates written as ISO 8601 UTC; files must come as file parts. */
function evidenceText(body: Record<string, unknown>): EvidenceText {
  for (const kind of EVIDENCE_FILE_KINDS) {
    if (body[kind] !== undefined) throw unprocessable('validation_failed', `${kind} is a file: send it as a file part of multipart/form-data.`, kind);
  }
  const fields = EVIDENCE_TEXT_FIELDS.filter((f) => body[f] !== undefined);
  return Object.fromEntries(fields.map((f) => [f, DATE_FIELDS.has(f) ? new Date(body[f] as string).toISOString() : body[f]]));
}

export function createDispute(ctx: Ctx, organizationId: string, body: CreateDisputeBody) {
  return ctx.db.transaction(async (tx) => {
    // The lock orders this check against refunds and other disputes of the same transaction.
    const txn = await transactions.lockForDispute(tx, organizationId, body.transactionId);
    const now = ctx.clock.now();
    if (txn.type === 'refund') {
      throw unprocessable('transaction_not_disputable', 'A refund cannot be disputed; dispute the capture it refunds.', 'transactionId');
    }
    if (now.getTime() - txn.created_at.getTime() > DISPUTE_WINDOW_DAYS * DAY_MS) {
      const cleared = txn.created_at.toISOString();
      throw unprocessable('dispute_window_closed', `${txn.id} cleared on ${cleared}, more than ${DISPUTE_WINDOW_DAYS} days ago.`, 'transactionId');
    }
    const existing = await repo.disputesOfTransaction(tx, organizationId, txn.id);
    if (existing.open > 0) {
      throw new ApiError(409, 'dispute_already_open', `${txn.id} already has an open dispute.`,
        [{ field: 'transactionId', message: 'has an open dispute' }]);
    }
    if (existing.total >= MAX_DISPUTES_PER_TRANSACTION) {
      throw unprocessable('too_many_disputes', `${txn.id} was disputed ${existing.total} times already, the most allowed.`, 'transactionId');
    }
    const disputable = txn.amount - txn.refunded_amount - txn.dispute_credited_amount;
    const amount = body.amount ?? disputable;
    if (disputable <= 0 || amount > disputable) {
      throw unprocessable('dispute_exceeds_transaction', `At most ${disputable} of ${txn.id} can be disputed (its amount ${txn.amount}, less ` +
        `${txn.refunded_amount} refunded and ${txn.dispute_credited_amount} credited by won disputes).`, 'amount');
    }
    const row: repo.DisputeRow = {
      id: newId('dsp', now.getTime()), organization_id: organizationId, transaction_id: txn.id, card_id: txn.card_id, status: 'unsubmitted',
      reason: body.reason, amount, credited_amount: 0, currency: txn.currency, evidence: { explanation: body.explanation },
      resolution_reason: null, created_at: now, updated_at: now, submitted_at: null, resolved_at: null,
    };
    await repo.insertDispute(tx, row);
    const dispute = present(row, []);
    await record(tx, organizationId, 'dispute.created', dispute, now);
    return dispute;
  });
}

export const getDispute = (ctx: Ctx, organizationId: string, id: string) => load(ctx.db, organizationId, id);

export async function listDisputes(ctx: Ctx, organizationId: string, query: ListQuery & repo.DisputeListFilters) {
  const page = await repo.listDisputes(ctx.db, organizationId, query);
  const files = await repo.listFiles(ctx.db, organizationId, page.rows.map((r) => r.id));
  return { data: page.rows.map((row) => present(row, files)), meta: page.meta };
}

/** Locks an unsubmitted dispute for a change, or refuses. */
async function lockUnsubmitted(tx: Queryable, organizationId: string, id: string) {
  const row = await repo.lockDispute(tx, organizationId, id);
  if (!row) throw notFound('Dispute');
  if (row.status !== 'unsubmitted') {
    throw new ApiError(409, 'dispute_already_submitted',
      `The dispute is ${row.status}: evidence changes and submission happen only while it is unsubmitted.`);
  }
  return row;
}

async function storeFiles(tx: Queryable, organizationId: string, disputeId: string, files: CheckedFile<string>[], at: Date) {
  const existing = await repo.countFiles(tx, organizationId, disputeId);
  if (existing + files.length > MAX_EVIDENCE_FILES) {
    throw unprocessable('too_many_evidence_files', `A dispute keeps at most ${MAX_EVIDENCE_FILES} evidence files (${existing} stored).`);
  }
  for (const file of files) {
    await repo.insertFile(tx, {
      id: newId('doc', at.getTime()), organization_id: organizationId, dispute_id: disputeId, kind: file.kind, file_name: file.fileName,
      content_type: file.contentType, size_bytes: file.data.length, sha256: file.sha256, created_at: at,
    }, file.data);
  }
}

/** Adds evidence: text fields replace earlier values, files are added. Only while unsubmitted. */
export function addEvidence(ctx: Ctx, organizationId: string, id: string, body: EvidenceBody | undefined, uploads: Upload[]) {
  const fields = evidenceText(body ?? {});
  if (Object.keys(fields).length === 0 && uploads.length === 0) {
    const names = [...EVIDENCE_TEXT_FIELDS, ...EVIDENCE_FILE_KINDS].join(', ');
    throw unprocessable('validation_failed', `Give at least one evidence field or file (${names}).`);
  }
  const files = checkFiles(uploads, EVIDENCE_FILE_KINDS);
  return ctx.db.transaction(async (tx) => {
    const locked = await lockUnsubmitted(tx, organizationId, id);
    const now = ctx.clock.now();
    const before = present(locked, await repo.listFiles(tx, organizationId, [id]));
    await repo.updateDispute(tx, organizationId, id, { evidence: { ...locked.evidence, ...fields } }, now);
    await storeFiles(tx, organizationId, id, files, now);
    const after = await load(tx, organizationId, id);
    await record(tx, organizationId, 'dispute.evidence_added', after, now, { evidence: before.evidence });
    return after;
  });
}

/** The organization's dispute suspense account; made outside any command's transaction. */
const suspenseAccountId = (ctx: Ctx, organizationId: string, currency: string) =>
  ledger.houseAccount(ctx.db, organizationId, ledger.HOUSE.disputes, currency, ctx.clock.now());

/** Sends the dispute to the network: the chargeback moves from settlement to dispute suspense. */
export async function submitDispute(ctx: Ctx, organizationId: string, id: string) {
  const peek = await repo.findDispute(ctx.db, organizationId, id);
  if (!peek) throw notFound('Dispute');
  const settlementId = await settlementAccountId(ctx, organizationId, peek.currency, ctx.clock.now());
  const suspenseId = await suspenseAccountId(ctx, organizationId, peek.currency);
  return ctx.db.transaction(async (tx) => {
    const locked = await lockUnsubmitted(tx, organizationId, id);
    const now = ctx.clock.now();
    await ledger.transfer(tx, {
      organizationId, debitAccountId: settlementId, creditAccountId: suspenseId, amount: locked.amount, currency: locked.currency,
      code: 'dispute_chargeback', referenceType: 'dispute', referenceId: id, at: now,
    });
    await repo.updateDispute(tx, organizationId, id, { status: 'submitted', submitted_at: now }, now);
    const after = await load(tx, organizationId, id);
    await record(tx, organizationId, 'dispute.submitted', after, now, { status: locked.status, submittedAt: null });
    return after;
  });
}

/**
 * The network's decision. Won: the card is credited from suspense with the disputed amount less
 * what refunds of the transaction returned since (never the same money twice), the rest goes back
 * to settlement; a card that ended meanwhile passes the credit on to its debit account. Lost: the
 * whole amount goes back to settlement.
 */
export async function resolveDispute(ctx: Ctx, organizationId: string, id: string, body: ResolveDisputeBody) {
  const peek = await repo.findDispute(ctx.db, organizationId, id);
  if (!peek) throw notFound('Dispute');
  const settlementId = await settlementAccountId(ctx, organizationId, peek.currency, ctx.clock.now());
  const suspenseId = await suspenseAccountId(ctx, organizationId, peek.currency);
  return ctx.db.transaction(async (tx) => {
    // Lock order card → transaction → dispute, as refunds take card → transaction.
    const card = await lockCard(tx, organizationId, peek.card_id);
    const txn = await transactions.lockForDispute(tx, organizationId, peek.transaction_id);
    const locked = await repo.lockDispute(tx, organizationId, id);
    if (!locked) throw notFound('Dispute');
    if (locked.status !== 'submitted') {
      throw new ApiError(409, 'dispute_not_submitted', `The dispute is ${locked.status}: only a submitted dispute is resolved.`);
    }
    const now = ctx.clock.now();
    const base = { organizationId, debitAccountId: suspenseId, currency: locked.currency, referenceType: 'dispute', referenceId: id, at: now };
    const credit = body.outcome === 'won' ? Math.min(locked.amount, txn.amount - txn.refunded_amount - txn.dispute_credited_amount) : 0;
    if (credit > 0) {
      await ledger.transfer(tx, { ...base, creditAccountId: await fundingAccountId(tx, card), amount: credit, code: 'dispute_credit' });
      await transactions.addDisputeCredit(tx, organizationId, txn.id, credit);
      await afterHoldReleased(tx, organizationId, card.id, now);
    }
    if (locked.amount > credit) {
      const code = body.outcome === 'won' ? 'dispute_refunded_meanwhile' : 'dispute_lost';
      await ledger.transfer(tx, { ...base, creditAccountId: settlementId, amount: locked.amount - credit, code });
    }
    await repo.updateDispute(tx, organizationId, id,
      { status: body.outcome, credited_amount: credit, resolution_reason: body.reason ?? null, resolved_at: now }, now);
    const after = await load(tx, organizationId, id);
    const type = body.outcome === 'won' ? 'dispute.won' : 'dispute.lost';
    await record(tx, organizationId, type, after, now, { status: locked.status, resolvedAt: null });
    return after;
  });
}

/** The stored bytes of an evidence file with the type decided at upload. */
export async function getFileContent(ctx: Ctx, organizationId: string, disputeId: string, fileId: string) {
  const row = await repo.findFileContent(ctx.db, organizationId, disputeId, fileId);
  if (!row) throw notFound('Evidence file');
  const content = Buffer.from(row.content.buffer, row.content.byteOffset, row.content.byteLength);
  return { contentType: row.content_type, fileName: row.file_name, content };
}
