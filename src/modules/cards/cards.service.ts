// Cards: issuance (this file), lifecycle and funds. Issuance runs in one transaction: program
// and card holder checks, PAN drawn and sealed, ledger account opened, initial funding debited
// from the debit account, event recorded. Any failure leaves no card and no debit.
import type { Ctx } from '../../platform/context.ts';
import type { Queryable } from '../../platform/db.ts';
import { notFound, unprocessable } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { normalizeCurrency } from '../../platform/money.ts';
import type { ListQuery } from '../../platform/pagination.ts';
import * as accounts from '../accounts/accounts.service.ts';
import * as budgets from '../budgets/budgets.service.ts';
import * as cardHolders from '../card-holders/card-holders.service.ts';
import * as programs from '../card-programs/card-programs.service.ts';
import { recordEventPart } from '../events/events.service.ts';
import * as ledger from '../ledger/ledger.service.ts';
import * as tokenizations from '../tokenizations/tokenizations.service.ts';
import type { Tokenization } from '../tokenizations/tokenizations.schemas.ts';
import { generatePan, maskPan } from './card-numbers.ts';
import * as repo from './cards.repo.ts';
import type { Card, CreateAccountCardBody, CreateCardBody, DeliveryAddress } from './cards.schemas.ts';
import { checkPhysicalCard } from './issuance-rules.ts';
import { hashPin, weakPinReason } from './pin.ts';

/** Draws before giving up on finding a free PAN in a program (a nearly full BIN range). */
export const MAX_PAN_ATTEMPTS = 10;

export function present(row: repo.CardShown, tokens: Tokenization[] = []): Card {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    id: row.id, status: row.status, type: row.type, brand: row.brand, scheme: row.brand === 'Visa' ? 'VISA' : 'MC',
    currency: row.currency, programId: row.program_id, programName: row.program_name, cardHolderId: row.card_holder_id,
    debitAccountId: row.debit_account_id, budgetId: row.budget_id, firstName: row.first_name, lastName: row.last_name,
    balance: { available: ledger.balanceOf(row).available, pending: row.debits_pending },
    maskedPan: maskPan(row.bin, row.last_four), bin: row.bin, lastFour: row.last_four,
    expiry: { month: row.expiry_month, year: row.expiry_year }, isPinSet: row.pin_hash !== null,
    isPinBlocked: row.pin_blocked_at !== null,
    label: row.label, externalId: row.external_id, mobile: row.mobile,
    deliveryAddress: (row.delivery_address ?? null) as DeliveryAddress | null,
    shipping: (row.shipping ?? null) as Card['shipping'],
    spendControls: (row.spend_controls ?? null) as Card['spendControls'],
    metadata: (row.metadata ?? {}) as Record<string, string>,
    tokenizations: tokens,
    replacesCardId: row.replaces_card_id, replacedByCardId: row.replaced_by_card_id,
    createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString(),
    activatedAt: iso(row.activated_at), cancelledAt: iso(row.cancelled_at),
  };
}

/** The card row with its program name and counters, or a 404 (also for another org's card). */
export async function viewCard(db: Queryable, organizationId: string, id: string) {
  const row = await repo.findCard(db, organizationId, id);
  if (!row) throw notFound('Card');
  return row;
}

/** A card as the API shows it, with its wallet tokenizations (a 404 if it is not this org's). */
export async function readCard(db: Queryable, organizationId: string, id: string): Promise<Card> {
  const row = await viewCard(db, organizationId, id);
  const tokens = await tokenizations.listForCards(db, organizationId, [id]);
  return present(row, tokens.get(id));
}

/** Who the card is for: a card holder (checked against the program), or a name where allowed. */
async function resolveHolder(tx: Queryable, organizationId: string, body: CreateCardBody, program: programs.ProgramRow) {
  const holderId = body.cardHolderId ?? body.customerId;
  if (!holderId) {
    if (!body.firstName || !body.lastName) {
      throw unprocessable('validation_failed', 'Give cardHolderId (or customerId), or firstName and lastName.', 'cardHolderId');
    }
    if (!program.allow_name_only_issuance || program.required_documents.length) {
      throw unprocessable('name_only_issuance_not_allowed', `The program ${program.name} requires a card holder.`, 'cardHolderId');
    }
    return { holder: null, firstName: body.firstName, lastName: body.lastName };
  }
  const holder = await cardHolders.findCardHolder(tx, organizationId, holderId);
  if (!holder) throw unprocessable('card_holder_not_found', `Card holder ${holderId} not found.`, body.cardHolderId ? 'cardHolderId' : 'customerId');
  if (holder.kyc_status === 'rejected') throw unprocessable('card_holder_rejected', 'The card holder failed KYC.', 'cardHolderId');
  // A program that demands documents always wants a verified holder, and one that has them.
  const documentsDemanded = program.required_documents.length > 0;
  if ((program.requires_verified_card_holder || documentsDemanded) && holder.kyc_status !== 'verified') {
    throw unprocessable('card_holder_not_verified', `The program requires a verified card holder; KYC is ${holder.kyc_status}.`, 'cardHolderId');
  }
  const missing = await cardHolders.missingDocuments(tx, organizationId, holder.id, program.required_documents);
  if (missing.length) {
    throw unprocessable('kyc_documents_required', `The program requires KYC documents the card holder has not uploaded: ${missing.join(', ')}.`, 'cardHolderId');
  }
  if (holder.nationality && program.blocked_nationalities.includes(holder.nationality)) {
    throw unprocessable('nationality_blocked', `The program does not issue cards to nationality ${holder.nationality}.`, 'cardHolderId');
  }
  return { holder, firstName: holder.first_name, lastName: holder.last_name };
}

function expiryFrom(now: Date, years: number) {
  return { month: now.getUTCMonth() + 1, year: now.getUTCFullYear() + years };
}

export function createCard(ctx: Ctx, organizationId: string, body: CreateCardBody) {
  const currency = normalizeCurrency(body.currency);
  const amount = body.amount ?? body.initialBalance ?? 0;
  if (body.amount !== undefined && body.initialBalance !== undefined && body.amount !== body.initialBalance) {
    throw unprocessable('invalid_amount', 'amount and initialBalance are aliases; send one.', 'initialBalance');
  }
  // Seed 002: a card states its initial balance (0 opens it empty); a budget card has none.
  if (!body.budgetId && body.amount === undefined && body.initialBalance === undefined) {
    throw unprocessable('validation_failed', 'amount (or initialBalance) is required: the card\'s initial balance, 0 for an empty card.', 'amount');
  }
  if (body.budgetId && amount > 0) {
    throw unprocessable('budget_card', 'A budget card has no balance of its own: leave amount out.', body.amount !== undefined ? 'amount' : 'initialBalance');
  }
  if (!body.budgetId && !body.debitAccountId) throw unprocessable('validation_failed', 'debitAccountId is required (or budgetId for a budget card).', 'debitAccountId');
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const wanted = { typeId: body.typeId, programName: body.programName, brand: body.brand, currency, type: body.type };
    const { program, budget, account } = await fundingOf(tx, organizationId, body, wanted);
    const { holder, firstName, lastName } = await resolveHolder(tx, organizationId, body, program);
    checkPhysicalCard(body, holder);
    const card = await issueCard(ctx, tx, {
      organization_id: organizationId, program_id: program.id, card_holder_id: holder?.id ?? null,
      debit_account_id: account.id, budget_id: budget?.id ?? null, type: body.type,
      status: program.issuance_review ? 'pending' : body.type === 'physical' ? 'issued' : body.status ?? 'active',
      label: body.label ?? null, external_id: body.externalId ?? null,
      mobile: body.mobile ?? holder?.phone_number ?? null, first_name: firstName, last_name: lastName,
      delivery_address: body.deliveryAddress ?? null, spend_controls: body.spendControls ?? null,
      metadata: body.metadata ?? {}, user_agent: body.userAgent ?? null, replaces_card_id: null,
    }, program, now, { pin: body.cardPin, dateOfBirth: holder?.date_of_birth ?? null }, amount);
    // The funding transfer is the last statement, with COMMIT sent right behind it (commitEarly):
    // it locks the debit account, which every card issued from it shares, so that lock is held
    // while the database commits, not across a round trip through this process (issue 10). A
    // refused transfer fails in SQL and takes the card with it. The card is shown as funded: its
    // new ledger account, made in this transaction, holds exactly `amount` after the credit.
    if (amount > 0) {
      const funding = ledger.transfer(tx, {
        organizationId, debitAccountId: account.ledger_account_id, creditAccountId: card.ledgerAccountId, amount, currency,
        code: 'card_funding', referenceType: 'card', referenceId: card.shown.id, description: 'Initial card funding', at: now,
        field: body.amount !== undefined ? 'amount' : 'initialBalance', refuseInSql: true,
      });
      tx.commitEarly();
      await funding;
    }
    return card.shown;
  });
}

/** The program, a budget card's budget, and the account the card draws on, checked in that order. */
async function fundingOf(tx: Queryable, organizationId: string, body: CreateCardBody, wanted: programs.WantedProgram) {
  if (body.budgetId) {
    const program = await programs.resolveProgram(tx, organizationId, wanted);
    // A budget card spends from the budget's account, within the budget.
    const budget = await budgets.requireBudgetForCard(tx, organizationId, body.budgetId, { currency: wanted.currency, debitAccountId: body.debitAccountId });
    const account = await accounts.requireDebitable(tx, organizationId, budget.account_id, wanted.currency, 'debitAccountId');
    return { program, budget, account };
  }
  // A card with its own balance: its program and its account (locked FOR SHARE until the commit,
  // so that a freeze or close waits for the issuance) are read in one round trip.
  const accountId = body.debitAccountId!;
  const found = await repo.findProgramAndAccount(tx, programs.programLookupSql(organizationId, wanted), accounts.lockedAccountSql, accountId);
  const program = programs.checkProgram(found.program, wanted);
  return { program, budget: null, account: accounts.checkDebitable(found.account, accountId, wanted.currency, 'debitAccountId') };
}

/**
 * Seed 004's POST /accounts/:id/cards: POST /cards with the path's account as debitAccountId. The
 * account is a path id, so another organization's (or an unknown) one is a 404 like everywhere.
 */
export async function createCardForAccount(ctx: Ctx, organizationId: string, accountId: string, body: CreateAccountCardBody) {
  if (!(await accounts.accountExists(ctx.db, organizationId, accountId))) throw notFound('Account');
  return createCard(ctx, organizationId, { ...body, debitAccountId: accountId });
}

/** What a caller decides about a new card; the rest (id, PAN, expiry, ledger account, dates) is made here. */
export type CardFields = Pick<repo.CardRow, 'organization_id' | 'program_id' | 'card_holder_id' | 'debit_account_id' | 'budget_id'
  | 'type' | 'status' | 'label' | 'external_id' | 'mobile' | 'first_name' | 'last_name' | 'delivery_address'
  | 'spend_controls' | 'metadata' | 'user_agent' | 'replaces_card_id'>;

/** Opens a card: its ledger account, a fresh PAN and expiry, and the row. No money moves here. */
export async function openCard(ctx: Ctx, tx: Queryable, fields: CardFields, program: programs.ProgramRow, now: Date, secrets: CardSecrets) {
  const id = newId('card', now.getTime());
  const ledgerAccountId = await ledger.openAccount(tx, fields.organization_id, 'card', id, program.currency, now);
  const card = newCard(fields, id, ledgerAccountId, program, now);
  for (let attempt = 0; attempt < MAX_PAN_ATTEMPTS; attempt++) {
    const row = drawPan(ctx, card, program, now, secrets);
    if (await repo.insertCard(tx, row)) return row;
  }
  throw programExhausted(program);
}

/**
 * openCard and the card.created event in one statement per PAN drawn (issue 10: two round trips
 * less on every issuance, and no read of the card back). The card is shown credited with
 * `amount`: the caller's funding transfer, which must follow, confirms it. A new card has no
 * wallet tokens.
 */
async function issueCard(
  ctx: Ctx, tx: Queryable, fields: CardFields, program: programs.ProgramRow, now: Date, secrets: CardSecrets, amount: number,
) {
  const id = newId('card', now.getTime());
  for (let attempt = 0; attempt < MAX_PAN_ATTEMPTS; attempt++) {
    const ledgerAccount = ledger.openAccountPart(fields.organization_id, 'card', id, program.currency, now);
    const row = drawPan(ctx, newCard(fields, id, ledgerAccount.id, program, now), program, now, secrets);
    const view: repo.CardView = { ...row, program_name: program.name, credits_posted: amount, debits_posted: 0, debits_pending: 0 };
    const event = recordEventPart({ organizationId: fields.organization_id, type: 'card.created', resourceId: id, data: present(view), at: now });
    const stored = await repo.insertCardWith(tx, row, [ledgerAccount, event]);
    if (stored) return { shown: present({ ...view, ...stored }), ledgerAccountId: ledgerAccount.id };
  }
  throw programExhausted(program);
}

type CardSecrets = { pin?: string; dateOfBirth: string | null };
type NewCard = Omit<repo.CardRow, 'pan_ciphertext' | 'pan_data_key' | 'pan_key_id' | 'pan_hash' | 'bin' | 'last_four' | 'expiry_month' | 'expiry_year'>;

function newCard(fields: CardFields, id: string, ledgerAccountId: string, program: programs.ProgramRow, now: Date): NewCard {
  return {
    ...fields, id, ledger_account_id: ledgerAccountId, brand: program.brand, currency: program.currency, pin_hash: null,
    pin_failed_attempts: 0, pin_blocked_at: null,
    shipping: fields.type === 'physical' ? { status: 'pending', trackingNumber: null, shippedAt: null, deliveredAt: null } : null,
    created_at: now, updated_at: now, activated_at: fields.status === 'active' ? now : null, cancelled_at: null,
    replaced_by_card_id: null, replacement_reason: null,
  };
}

/** The card with a PAN drawn in the program (free or not: the insert tells), sealed; the PIN set if one was given. */
function drawPan(ctx: Ctx, card: NewCard, program: programs.ProgramRow, now: Date, secrets: CardSecrets): repo.CardRow {
  const expiry = expiryFrom(now, program.card_validity_years);
  const pan = generatePan(program.bin);
  const lastFour = pan.slice(-4);
  if (secrets.pin) {
    const reason = weakPinReason(secrets.pin, { dateOfBirth: secrets.dateOfBirth, lastFour });
    if (reason) throw unprocessable('weak_pin', `The PIN is too easy to guess (${reason}).`, 'cardPin');
  }
  const sealed = ctx.vault.sealRecord(pan);
  return {
    ...card, pan_ciphertext: sealed.ciphertext, pan_data_key: sealed.wrappedKey, pan_key_id: sealed.keyId, pan_hash: ctx.vault.hash('pan-lookup', pan),
    bin: program.bin, last_four: lastFour, expiry_month: expiry.month, expiry_year: expiry.year,
    pin_hash: secrets.pin ? hashPin(ctx.vault, card.id, secrets.pin) : null,
  };
}

const programExhausted = (program: programs.ProgramRow) =>
  unprocessable('program_exhausted', `No free card number left in BIN ${program.bin}.`, 'typeId');

export async function getCard(ctx: Ctx, organizationId: string, id: string) {
  return readCard(ctx.db, organizationId, id);
}

export async function listCards(ctx: Ctx, organizationId: string, query: ListQuery & repo.CardFilters & { customerId?: string }) {
  const { customerId, ...filters } = query;
  if (customerId !== undefined && filters.cardHolderId !== undefined && customerId !== filters.cardHolderId) {
    throw unprocessable('validation_failed', 'customerId and cardHolderId are aliases; send one.', 'customerId');
  }
  const page = await repo.listCards(ctx.db, organizationId, {
    ...filters, cardHolderId: filters.cardHolderId ?? customerId, currency: filters.currency?.toUpperCase(),
  });
  return { data: page.rows.map((row) => present(row, row.tokenizations.map(tokenizations.present))), meta: page.meta };
}

/** The card's own ledger entries: funding, holds, captures, refunds, returns. */
export async function listCardEntries(ctx: Ctx, organizationId: string, id: string, query: ListQuery) {
  const card = await viewCard(ctx.db, organizationId, id);
  return ledger.listEntries(ctx, organizationId, card.ledger_account_id, query);
}

export type CardListQuery = ListQuery & repo.CardFilters & { customerId?: string };
