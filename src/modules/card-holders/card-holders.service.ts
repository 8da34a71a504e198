// Card holders (customers): identity, KYC status and documents. Each change runs in one
// transaction with its events: card_holder.created / updated / kyc_updated / document_added.
import type { Ctx } from '../../platform/context.ts';
import type { Queryable } from '../../platform/db.ts';
import { ApiError, notFound, unprocessable } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import type { Upload } from '../../platform/multipart.ts';
import type { ListQuery } from '../../platform/pagination.ts';
import * as programs from '../card-programs/card-programs.service.ts';
import { changedAttributes, recordEvent } from '../events/events.service.ts';
import * as repo from './card-holders.repo.ts';
import {
  DOCUMENT_KINDS, HOLDER_FIELDS, type CardHolder, type CreateCardHolderBody, type Document, type HolderFields, type KycBody,
  type UpdateCardHolderBody,
} from './card-holders.schemas.ts';
import { checkIdentityFields, evaluateKyc, touchesIdentity, withDocuments } from './kyc.ts';
import { checkFiles, downloadFileName, type CheckedFile } from './uploads.ts';

export type CardHolderRow = repo.CardHolderRow;

/** Documents kept per card holder: each is up to 10 MiB stored in the database. */
export const MAX_DOCUMENTS_PER_CARD_HOLDER = 20;

/** For other modules: the card holder or undefined (callers choose their error). */
export function findCardHolder(tx: Queryable, organizationId: string, id: string) {
  return repo.findCardHolder(tx, organizationId, id);
}

/** API field name → column. */
const COLUMNS = {
  firstName: 'first_name', lastName: 'last_name', email: 'email', phoneNumber: 'phone_number', dateOfBirth: 'date_of_birth',
  nationality: 'nationality', addressLine1: 'address_line1', addressLine2: 'address_line2', city: 'city', state: 'state',
  postalCode: 'postal_code', country: 'country',
} as const satisfies Record<(typeof HOLDER_FIELDS)[number], keyof repo.CardHolderRow>;

function fieldsOf(row: CardHolderRow): HolderFields {
  return Object.fromEntries(HOLDER_FIELDS.map((field) => [field, row[COLUMNS[field]]]));
}

function presentDocument(row: repo.DocumentRow): Document {
  return {
    id: row.id, cardHolderId: row.card_holder_id, kind: row.kind as Document['kind'], fileName: row.file_name,
    contentType: row.content_type as Document['contentType'], sizeBytes: row.size_bytes, sha256: row.sha256, createdAt: row.created_at.toISOString(),
  };
}

export function present(row: CardHolderRow, documents: repo.DocumentRow[]): CardHolder {
  return {
    id: row.id, firstName: row.first_name, lastName: row.last_name, email: row.email, phoneNumber: row.phone_number,
    dateOfBirth: row.date_of_birth, nationality: row.nationality, addressLine1: row.address_line1, addressLine2: row.address_line2,
    city: row.city, state: row.state, postalCode: row.postal_code, country: row.country,
    spendControls: (row.spend_controls ?? null) as CardHolder['spendControls'],
    programId: row.program_id,
    kycStatus: row.kyc_status, kycReason: row.kyc_reason,
    documents: documents.filter((d) => d.card_holder_id === row.id).map(presentDocument),
    createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString(),
  };
}

async function load(db: Queryable, organizationId: string, id: string) {
  const row = await repo.findCardHolder(db, organizationId, id);
  if (!row) throw notFound('Card holder');
  return present(row, await repo.listDocuments(db, organizationId, [id]));
}

/** The text fields of a body; a file field sent as text is refused (files come as multipart parts). */
function textFields(body: Record<string, unknown>): HolderFields {
  for (const kind of DOCUMENT_KINDS) {
    if (body[kind] !== undefined) {
      throw unprocessable('validation_failed', `${kind} is a file: send it as a file part of multipart/form-data.`, kind);
    }
  }
  return Object.fromEntries(HOLDER_FIELDS.filter((f) => body[f] !== undefined).map((f) => [f, body[f] as string | null]));
}

/** The document kinds the program demands (none without a program), or a 422 for an unknown program. */
async function requiredDocuments(tx: Queryable, organizationId: string, programId: string | null) {
  if (!programId) return [];
  const program = await programs.findProgram(tx, organizationId, programId);
  if (!program) throw unprocessable('program_not_found', `Card program ${programId} not found.`, 'programId');
  return program.required_documents;
}

/** What the holder's program still waits for: the demanded kinds not among `have`. */
const missingOf = (required: string[], have: Set<string>) => required.filter((kind) => !have.has(kind));

/** For card issuance: the demanded document kinds the holder has not uploaded. */
export async function missingDocuments(tx: Queryable, organizationId: string, cardHolderId: string, required: string[]) {
  return required.length ? missingOf(required, await repo.documentKinds(tx, organizationId, cardHolderId)) : [];
}

/**
 * After an upload: a holder waiting for its program's documents (pending) moves to in_review once
 * all are in, with card_holder.kyc_updated; the simulator's KYC review then decides.
 */
async function settleDocumentWait(tx: Queryable, organizationId: string, id: string, at: Date) {
  const holder = await repo.findCardHolder(tx, organizationId, id);
  if (!holder || holder.kyc_status !== 'pending' || !holder.program_id) return;
  const required = await requiredDocuments(tx, organizationId, holder.program_id);
  if (!required.length) return;
  const kyc = withDocuments({ status: 'verified', reason: null }, missingOf(required, await repo.documentKinds(tx, organizationId, id)));
  if (kyc.status === holder.kyc_status && kyc.reason === holder.kyc_reason) return;
  await repo.updateCardHolder(tx, organizationId, id, { kyc_status: kyc.status, kyc_reason: kyc.reason }, at);
  await recordEvent(tx, {
    organizationId, type: 'card_holder.kyc_updated', resourceId: id, data: await load(tx, organizationId, id),
    previousAttributes: { kycStatus: holder.kyc_status, kycReason: holder.kyc_reason }, at,
  });
}

/** Stores the checked files and records one card_holder.document_added event for each. */
async function storeDocuments(tx: Queryable, organizationId: string, cardHolderId: string, files: CheckedFile[], at: Date) {
  const existing = await repo.countDocuments(tx, organizationId, cardHolderId);
  if (existing + files.length > MAX_DOCUMENTS_PER_CARD_HOLDER) {
    throw unprocessable('too_many_documents', `A card holder keeps at most ${MAX_DOCUMENTS_PER_CARD_HOLDER} documents (${existing} stored).`);
  }
  for (const file of files) {
    const row: repo.DocumentRow = {
      id: newId('doc', at.getTime()), organization_id: organizationId, card_holder_id: cardHolderId, kind: file.kind,
      file_name: file.fileName, content_type: file.contentType, size_bytes: file.data.length, sha256: file.sha256, created_at: at,
    };
    await repo.insertDocument(tx, row, file.data);
    await recordEvent(tx, { organizationId, type: 'card_holder.document_added', resourceId: cardHolderId, data: { cardHolderId, document: presentDocument(row) }, at });
  }
}

export function createCardHolder(ctx: Ctx, organizationId: string, body: CreateCardHolderBody, uploads: Upload[]) {
  const fields = textFields(body);
  checkIdentityFields(fields, ctx.clock.now());
  const files = checkFiles(uploads);
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const id = newId('ch', now.getTime());
    const required = await requiredDocuments(tx, organizationId, body.programId ?? null);
    const kyc = withDocuments(evaluateKyc(fields), required.length ? missingOf(required, new Set(files.map((f) => f.kind))) : null);
    const row = {
      id, organization_id: organizationId, kyc_status: kyc.status, kyc_reason: kyc.reason, created_at: now, updated_at: now,
      spend_controls: body.spendControls ?? null, program_id: body.programId ?? null,
      ...Object.fromEntries(HOLDER_FIELDS.map((field) => [COLUMNS[field], fields[field] ?? null])),
    } as CardHolderRow;
    await repo.insertCardHolder(tx, row);
    await recordEvent(tx, { organizationId, type: 'card_holder.created', resourceId: id, data: present(row, []), at: now });
    await storeDocuments(tx, organizationId, id, files, now);
    return load(tx, organizationId, id);
  });
}

export async function getCardHolder(ctx: Ctx, organizationId: string, id: string) {
  return load(ctx.db, organizationId, id);
}

export async function listCardHolders(ctx: Ctx, organizationId: string, query: ListQuery & { kycStatus?: string; email?: string }) {
  const page = await repo.listCardHolders(ctx.db, organizationId, query);
  const documents = await repo.listDocuments(ctx.db, organizationId, page.rows.map((r) => r.id));
  return { data: page.rows.map((row) => present(row, documents)), meta: page.meta };
}

/**
 * Changes the given fields. A change to an identity field evaluates KYC again, except for a
 * holder the simulator rejected: only the simulator lifts a rejection.
 */
export function updateCardHolder(ctx: Ctx, organizationId: string, id: string, body: UpdateCardHolderBody, uploads: Upload[]) {
  const fields = textFields(body);
  if (Object.keys(fields).length === 0 && uploads.length === 0 && body.spendControls === undefined && body.programId === undefined) {
    throw unprocessable('validation_failed', 'Give at least one field to change or one file to add.');
  }
  checkIdentityFields(fields, ctx.clock.now());
  const files = checkFiles(uploads);
  return ctx.db.transaction(async (tx) => {
    const locked = await repo.lockCardHolder(tx, organizationId, id);
    if (!locked) throw notFound('Card holder');
    // Read the clock once the lock is held, so that updatedAt and event times follow the order of the changes.
    const now = ctx.clock.now();
    const before = await load(tx, organizationId, id);
    const merged = { ...fieldsOf(locked), ...fields };
    const changes: repo.HolderChanges = Object.fromEntries(Object.entries(fields).map(([field, value]) => [COLUMNS[field as keyof typeof COLUMNS], value]));
    if (body.spendControls !== undefined) changes.spend_controls = body.spendControls;
    const programId = body.programId ?? locked.program_id;
    if (body.programId !== undefined) changes.program_id = body.programId;
    const programChanged = programId !== locked.program_id;
    if (locked.kyc_status !== 'rejected' && (touchesIdentity(fieldsOf(locked), merged) || programChanged)) {
      const required = await requiredDocuments(tx, organizationId, programId);
      const have = await repo.documentKinds(tx, organizationId, id);
      for (const file of files) have.add(file.kind);
      const kyc = withDocuments(evaluateKyc(merged), required.length ? missingOf(required, have) : null);
      Object.assign(changes, { kyc_status: kyc.status, kyc_reason: kyc.reason });
    }
    // A change to the value a field already has is no change: updatedAt stays, no event.
    const effective = Object.fromEntries(Object.entries(changes).filter(([column, value]) =>
      JSON.stringify(value ?? null) !== JSON.stringify(locked[column as keyof CardHolderRow] ?? null)));
    if (Object.keys(effective).length > 0) await repo.updateCardHolder(tx, organizationId, id, effective, now);
    const after = await load(tx, organizationId, id);
    const changed = changedAttributes(before, { ...after, updatedAt: before.updatedAt });
    if (Object.keys(changed).length > 0) {
      await recordEvent(tx, { organizationId, type: 'card_holder.updated', resourceId: id, data: after, previousAttributes: changed, at: now });
      if ('kycStatus' in changed || 'kycReason' in changed) {
        await recordEvent(tx, { organizationId, type: 'card_holder.kyc_updated', resourceId: id, data: after, previousAttributes: { kycStatus: before.kycStatus, kycReason: before.kycReason }, at: now });
      }
    }
    await storeDocuments(tx, organizationId, id, files, now);
    if (files.length) await settleDocumentWait(tx, organizationId, id, now);
    return load(tx, organizationId, id);
  });
}

export function addDocuments(ctx: Ctx, organizationId: string, id: string, body: Record<string, unknown> | undefined, uploads: Upload[]) {
  textFields(body ?? {});
  if (uploads.length === 0) {
    throw unprocessable('validation_failed', `Send at least one file: ${DOCUMENT_KINDS.join(', ')}.`);
  }
  const files = checkFiles(uploads);
  return ctx.db.transaction(async (tx) => {
    if (!(await repo.lockCardHolder(tx, organizationId, id))) throw notFound('Card holder');
    const now = ctx.clock.now();
    await storeDocuments(tx, organizationId, id, files, now);
    await settleDocumentWait(tx, organizationId, id, now);
    return load(tx, organizationId, id);
  });
}

export async function getDocument(ctx: Ctx, organizationId: string, cardHolderId: string, documentId: string) {
  const row = await repo.findDocument(ctx.db, organizationId, cardHolderId, documentId);
  if (!row) throw notFound('Document');
  return presentDocument(row);
}

/** The stored bytes with the type decided at upload and a safe download name. */
export async function getDocumentContent(ctx: Ctx, organizationId: string, cardHolderId: string, documentId: string) {
  const row = await repo.findDocumentContent(ctx.db, organizationId, cardHolderId, documentId);
  if (!row) throw notFound('Document');
  const content = Buffer.from(row.content.buffer, row.content.byteOffset, row.content.byteLength);
  if (content.length !== row.size_bytes) throw new ApiError(500, 'internal_error', 'A stored document does not match its recorded size.');
  return { contentType: row.content_type, fileName: downloadFileName(row.file_name, row.content_type), content };
}

/** The simulator's KYC review: sets any status. Nothing changes (and no event) when both match. */
export function setKycStatus(ctx: Ctx, organizationId: string, id: string, body: KycBody) {
  return ctx.db.transaction(async (tx) => {
    const locked = await repo.lockCardHolder(tx, organizationId, id);
    if (!locked) throw notFound('Card holder');
    const now = ctx.clock.now();
    const reason = body.reason ?? null;
    if (locked.kyc_status === body.status && locked.kyc_reason === reason) return load(tx, organizationId, id);
    await repo.updateCardHolder(tx, organizationId, id, { kyc_status: body.status, kyc_reason: reason }, now);
    const after = await load(tx, organizationId, id);
    await recordEvent(tx, {
      organizationId, type: 'card_holder.kyc_updated', resourceId: id, data: after,
      previousAttributes: { kycStatus: locked.kyc_status, kycReason: locked.kyc_reason }, at: now,
    });
    return after;
  });
}
