// Card programs: the BIN, brand, currency and rules that cards are issued under. Every new
// organization gets active Visa and Mastercard programs in USD and EUR, so the quickstart needs
// no typeId.
import { randomBytes } from 'node:crypto';
import type { Ctx } from '../../platform/context.ts';
import type { Queryable } from '../../platform/db.ts';
import { ApiError, notFound, unprocessable } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { checkOutboundUrl, OutboundError } from '../../platform/outbound-http.ts';
import { normalizeCurrency } from '../../platform/money.ts';
import type { ListQuery } from '../../platform/pagination.ts';
import { changedAttributes, recordEvent } from '../events/events.service.ts';
import * as repo from './card-programs.repo.ts';
import {
  DEFAULT_CARD_VALIDITY_YEARS, DEFAULT_DECISION_TIMEOUT_MS, DEFAULT_HOLD_TTL_HOURS, type CreateProgramBody, type Program, type UpdateProgramBody,
} from './card-programs.schemas.ts';

export type ProgramRow = repo.ProgramRow;

/** Bytes of randomness in a decision webhook signing secret (Standard Webhooks allows 24–64). */
const WEBHOOK_SECRET_BYTES = 32;

const DEFAULT_PROGRAMS: Array<{ name: string; brand: 'Visa' | 'Mastercard'; bin: string; currency: string }> = [
  { name: 'Visa USD', brand: 'Visa', bin: '45320100', currency: 'USD' },
  { name: 'Visa EUR', brand: 'Visa', bin: '45320200', currency: 'EUR' },
  { name: 'Mastercard USD', brand: 'Mastercard', bin: '52220100', currency: 'USD' },
  { name: 'Mastercard EUR', brand: 'Mastercard', bin: '52220200', currency: 'EUR' },
];

export function normalizeBrand(brand: string): 'Visa' | 'Mastercard' {
  return brand.toLowerCase() === 'visa' ? 'Visa' : 'Mastercard';
}

/** Visa BINs start with 4; Mastercard with 51–55 or 2221–2720. */
export function binMatchesBrand(bin: string, brand: 'Visa' | 'Mastercard') {
  if (brand === 'Visa') return bin.startsWith('4');
  const two = Number(bin.slice(0, 2));
  const four = Number(bin.slice(0, 4));
  return (two >= 51 && two <= 55) || (four >= 2221 && four <= 2720);
}

export function present(row: ProgramRow): Program {
  return {
    id: row.id, name: row.name, brand: row.brand, bin: row.bin, currency: row.currency, cardTypes: row.card_types,
    status: row.status, requiresVerifiedCardHolder: row.requires_verified_card_holder,
    allowNameOnlyIssuance: row.allow_name_only_issuance, blockedNationalities: row.blocked_nationalities,
    cardValidityYears: row.card_validity_years, holdTtlHours: row.hold_ttl_hours,
    issuanceReview: row.issuance_review, digitalInTransit: row.digital_in_transit,
    defaultSpendControls: (row.default_spend_controls ?? null) as Program['defaultSpendControls'],
    authorizationWebhook: (row.authorization_webhook ?? null) as Program['authorizationWebhook'],
    requiredDocuments: row.required_documents,
    createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString(),
  };
}

function withWebhookDefaults(hook: CreateProgramBody['authorizationWebhook']) {
  return hook ? { url: hook.url, timeoutMs: hook.timeoutMs ?? DEFAULT_DECISION_TIMEOUT_MS, fallback: hook.fallback ?? 'decline' } : null;
}

function newRow(organizationId: string, body: CreateProgramBody, at: Date): ProgramRow {
  const brand = normalizeBrand(body.brand);
  if (!binMatchesBrand(body.bin, brand)) throw unprocessable('bin_brand_mismatch', `BIN ${body.bin} is not a ${brand} BIN.`, 'bin');
  return {
    id: newId('prg', at.getTime()), organization_id: organizationId, name: body.name, brand, bin: body.bin,
    currency: normalizeCurrency(body.currency), card_types: body.cardTypes ?? ['virtual', 'physical'],
    status: body.status ?? 'active', requires_verified_card_holder: body.requiresVerifiedCardHolder ?? true,
    allow_name_only_issuance: body.allowNameOnlyIssuance ?? false, blocked_nationalities: body.blockedNationalities ?? [],
    card_validity_years: body.cardValidityYears ?? DEFAULT_CARD_VALIDITY_YEARS, hold_ttl_hours: body.holdTtlHours ?? DEFAULT_HOLD_TTL_HOURS,
    issuance_review: body.issuanceReview ?? false, digital_in_transit: body.digitalInTransit ?? true,
    required_documents: body.requiredDocuments ?? [],
    default_spend_controls: body.defaultSpendControls ?? null, authorization_webhook: withWebhookDefaults(body.authorizationWebhook),
    authorization_webhook_secret_ciphertext: null, authorization_webhook_secret_key_id: null,
    created_at: at, updated_at: at,
  };
}

// The decision webhook's signing secret. Paygen must read it back to sign, so it is sealed by the
// vault rather than hashed. It is generated when a webhook is first set, kept while the webhook
// stays set (a new URL or timeout keeps it), dropped when the webhook is removed, and replaced by
// rotate-webhook-secret. Only the answer to the request that generated it shows it.

function newWebhookSecret() {
  return `whsec_${randomBytes(WEBHOOK_SECRET_BYTES).toString('base64')}`;
}

function sealedSecretColumns(ctx: Ctx, secret: string | null) {
  return {
    authorization_webhook_secret_ciphertext: secret === null ? null : ctx.vault.seal(secret),
    authorization_webhook_secret_key_id: secret === null ? null : ctx.vault.keyId,
  };
}

function withSecret(program: Program, secret: string | null): Program {
  if (secret === null || !program.authorizationWebhook) return program;
  return { ...program, authorizationWebhook: { ...program.authorizationWebhook, secret } };
}

/**
 * Refuses a decision webhook URL that could never be called: not http(s), with credentials, or a
 * private IP literal when private targets are not allowed. Host names are checked at call time,
 * on the addresses they resolve to then.
 */
function checkWebhookUrl(ctx: Ctx, hook: CreateProgramBody['authorizationWebhook']) {
  if (!hook) return;
  try {
    checkOutboundUrl(hook.url, ctx.config.webhookAllowPrivate);
  } catch (error) {
    if (!(error instanceof OutboundError)) throw error;
    throw unprocessable(error.kind === 'refused_address' ? 'webhook_url_not_allowed' : 'invalid_webhook_url', error.message, 'authorizationWebhook.url');
  }
}

/** The plain signing secret of a program's decision webhook, or null when it has none. */
export function authorizationWebhookSecret(ctx: Ctx, row: ProgramRow): string | null {
  return row.authorization_webhook_secret_ciphertext ? ctx.vault.open(row.authorization_webhook_secret_ciphertext) : null;
}

async function insert(tx: Queryable, row: ProgramRow, at: Date) {
  const inserted = await repo.insertProgram(tx, row);
  if (!inserted) throw new ApiError(409, 'program_name_taken', `A program named "${row.name}" already exists.`, [{ field: 'name', message: 'already exists' }]);
  const program = present(inserted);
  await recordEvent(tx, { organizationId: row.organization_id, type: 'card_program.created', resourceId: row.id, data: program, at });
  return program;
}

export async function createDefaultPrograms(tx: Queryable, organizationId: string, at: Date) {
  for (const [i, program] of DEFAULT_PROGRAMS.entries()) {
    // One millisecond apart so that the defaults keep their order (ids are time-ordered).
    const when = new Date(at.getTime() + i);
    await insert(tx, newRow(organizationId, program, when), when);
  }
}

export function createProgram(ctx: Ctx, organizationId: string, body: CreateProgramBody) {
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    checkWebhookUrl(ctx, body.authorizationWebhook);
    const row = newRow(organizationId, body, now);
    const secret = row.authorization_webhook ? newWebhookSecret() : null;
    return withSecret(await insert(tx, { ...row, ...sealedSecretColumns(ctx, secret) }, now), secret);
  });
}

export async function getProgram(ctx: Ctx, organizationId: string, id: string) {
  const row = await repo.findProgram(ctx.db, organizationId, id);
  if (!row) throw notFound('Card program');
  return present(row);
}

/** For other modules: the program row of an existing card (it always exists). */
export async function findProgramRow(db: Queryable, organizationId: string, id: string) {
  const row = await repo.findProgram(db, organizationId, id);
  if (!row) throw new Error(`card program ${id} is missing`);
  return row;
}

/** For other modules: a program named by a caller, or undefined (the caller chooses its error). */
export function findProgram(db: Queryable, organizationId: string, id: string) {
  return repo.findProgram(db, organizationId, id);
}

export async function listPrograms(ctx: Ctx, organizationId: string, query: ListQuery & { status?: string; brand?: string; currency?: string }) {
  const page = await repo.listPrograms(ctx.db, organizationId, { ...query, currency: query.currency?.toUpperCase() });
  return { data: page.rows.map(present), meta: page.meta };
}

export function updateProgram(ctx: Ctx, organizationId: string, id: string, body: UpdateProgramBody) {
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const before = await repo.lockProgram(tx, organizationId, id);
    if (!before) throw notFound('Card program');
    checkWebhookUrl(ctx, body.authorizationWebhook);
    const columns: Record<string, unknown> = {
      name: body.name, card_types: body.cardTypes, status: body.status,
      requires_verified_card_holder: body.requiresVerifiedCardHolder, allow_name_only_issuance: body.allowNameOnlyIssuance,
      blocked_nationalities: body.blockedNationalities, card_validity_years: body.cardValidityYears,
      hold_ttl_hours: body.holdTtlHours, issuance_review: body.issuanceReview, digital_in_transit: body.digitalInTransit,
      default_spend_controls: body.defaultSpendControls, required_documents: body.requiredDocuments,
      authorization_webhook: body.authorizationWebhook === undefined ? undefined : withWebhookDefaults(body.authorizationWebhook),
    };
    // A webhook set where there was none gets a new secret; removing the webhook drops it.
    const secret = body.authorizationWebhook && !before.authorization_webhook_secret_ciphertext ? newWebhookSecret() : null;
    if (secret !== null || body.authorizationWebhook === null) Object.assign(columns, sealedSecretColumns(ctx, secret));
    const changes = Object.fromEntries(Object.entries(columns).filter(([, v]) => v !== undefined));
    const after = await repo.updateProgram(tx, organizationId, id, { ...changes, updated_at: now } as Partial<ProgramRow>);
    if (!after) throw new ApiError(409, 'program_name_taken', `A program named "${body.name}" already exists.`, [{ field: 'name', message: 'already exists' }]);
    const [old, updated] = [present(before), present(after)];
    await recordEvent(tx, {
      organizationId, type: 'card_program.updated', resourceId: id, data: updated,
      previousAttributes: changedAttributes(old, { ...updated, updatedAt: old.updatedAt }), at: now,
    });
    return withSecret(updated, secret);
  });
}

/** A new signing secret for the decision webhook; the old one stops working at once. */
export function rotateWebhookSecret(ctx: Ctx, organizationId: string, id: string) {
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const before = await repo.lockProgram(tx, organizationId, id);
    if (!before) throw notFound('Card program');
    if (!before.authorization_webhook) throw notFound('Authorization webhook');
    const secret = newWebhookSecret();
    const after = await repo.updateProgram(tx, organizationId, id, { ...sealedSecretColumns(ctx, secret), updated_at: now });
    if (!after) throw new Error(`card program ${id} vanished under its lock`);
    const [old, updated] = [present(before), present(after)];
    await recordEvent(tx, { organizationId, type: 'card_program.updated', resourceId: id, data: updated, previousAttributes: changedAttributes(old, updated), at: now });
    return withSecret(updated, secret);
  });
}

/** What a card request says about its program. */
export interface WantedProgram { typeId?: string; programName?: string; brand?: string; currency: string; type: string }

/**
 * The program a new card is issued under: by id (typeId), by name (programName), or the default
 * active program for the brand, currency and card type.
 */
export function programLookup(wanted: WantedProgram): repo.ProgramLookup {
  if (wanted.typeId) return { id: wanted.typeId };
  if (wanted.programName) return { name: wanted.programName };
  if (wanted.brand) return { brand: normalizeBrand(wanted.brand), currency: wanted.currency, type: wanted.type };
  throw unprocessable('validation_failed', 'Give typeId, programName or brand to choose a card program.', 'brand');
}

/** The looked-up program if it can issue the wanted card; the reason as a 422 if not. */
export function checkProgram(row: ProgramRow | undefined, wanted: WantedProgram): ProgramRow {
  if (!row) {
    const field = wanted.typeId ? 'typeId' : wanted.programName ? 'programName' : 'brand';
    throw unprocessable('program_not_found', 'No active card program matches the request.', field);
  }
  if (row.status !== 'active') throw unprocessable('program_inactive', `The card program ${row.name} is inactive.`, wanted.typeId ? 'typeId' : 'programName');
  if (wanted.brand && normalizeBrand(wanted.brand) !== row.brand) throw unprocessable('brand_mismatch', `The program issues ${row.brand} cards.`, 'brand');
  if (row.currency !== wanted.currency) throw unprocessable('currency_mismatch', `The program issues ${row.currency} cards, not ${wanted.currency}.`, 'currency');
  if (!row.card_types.includes(wanted.type as 'virtual')) throw unprocessable('card_type_not_supported', `The program does not issue ${wanted.type} cards.`, 'type');
  return row;
}

/** The program lookup as SQL (the organization in $1), for card issuance to read it with the funding account. */
export function programLookupSql(organizationId: string, wanted: WantedProgram) {
  return repo.programLookupSql(organizationId, programLookup(wanted));
}

export async function resolveProgram(tx: Queryable, organizationId: string, wanted: WantedProgram) {
  return checkProgram(await repo.findProgramBy(tx, organizationId, programLookup(wanted)), wanted);
}
