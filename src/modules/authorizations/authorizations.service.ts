// Authorizations (the simulated card network): the decision and the hold. The rules run first on
// plain reads (card status, expiry, currency, spend controls, funds), then the program's decision
// webhook, outside any transaction; then ONE short transaction locks the card, re-checks what can
// have changed meanwhile (status, limits, budget, funds), places the hold, stores the
// authorization and records its event. Declines are data: a 201 with approved false and no hold.
// Faster paths come first and give way to that one: a program without a webhook takes one
// transaction (authorizeUnderLock), and a plain card that covers the amount one statement
// (authorizeInOneStatement).
import type { Ctx } from '../../platform/context.ts';
import type { Queryable, Transaction } from '../../platform/db.ts';
import { ApiError, notFound, unprocessable } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import type { ListQuery } from '../../platform/pagination.ts';
import * as budgets from '../budgets/budgets.service.ts';
import * as cardHolders from '../card-holders/card-holders.service.ts';
import * as programs from '../card-programs/card-programs.service.ts';
import { lockCard, viewCard } from '../cards/card-lifecycle.service.ts';
import { verifyPin } from '../cards/card-pins.service.ts';
import type { CardRow } from '../cards/cards.repo.ts';
import { recordEvent } from '../events/events.service.ts';
import * as ledger from '../ledger/ledger.service.ts';
import { PIN_ENTRY_MODES, type Authorization, type CreateAuthorizationBody, type DeclineReason } from './authorizations.schemas.ts';
import * as repo from './authorizations.repo.ts';
import { newRow, present, storedAnswer, type Request, type Verdict } from './authorization-row.ts';
import { askForDecision, type Decision } from './decision-webhook.ts';
import { authorizeInOneStatement } from './one-statement.ts';
import { withLockWait } from './lock-wait.ts';
import { availableOf, fundingAccountId, isInsufficientFunds, knownSettlementAccountId, settlementAccountId } from './funding.ts';
import { checkSpendControls, controlSets, type ControlSet } from './spend-controls.ts';

export { AUTHORIZATION_LOCK_TIMEOUT_MS } from './lock-wait.ts';
export { present } from './authorization-row.ts';
export async function getAuthorization(ctx: Ctx, organizationId: string, id: string) {
  const row = await repo.findAuthorization(ctx.db, organizationId, id);
  if (!row) throw notFound('Authorization');
  return present(row);
}

export async function listAuthorizations(ctx: Ctx, organizationId: string, query: ListQuery & { cardId?: string; status?: string }) {
  const page = await repo.listAuthorizations(ctx.db, organizationId, query);
  return { data: page.rows.map(present), meta: page.meta };
}

/** Whether the card may pay at all: only active, and a digital (in transit) card only online. */
export function cardUsable(card: Pick<CardRow, 'status' | 'expiry_month' | 'expiry_year'>, entryMode: string, now: Date): DeclineReason | null {
  if (!(card.status === 'active' || (card.status === 'digital' && entryMode === 'ecommerce'))) return 'card_not_active';
  // A card is valid through the last day of its expiry month (UTC).
  if (now.getTime() >= Date.UTC(card.expiry_year, card.expiry_month, 1)) return 'card_expired';
  return null;
}

/**
 * Funds for `requested`: the funding side's available balance, and for a budget card the budget's
 * remaining amount too. With partial approval, whatever is there (if anything) is approved. Under
 * the card lock the budget's counter decides last, right before the hold (claimBudget): what is
 * read here only orders the decline reasons.
 */
async function fundsVerdict(db: Queryable, card: CardRow, requested: number, partial: boolean, clock: () => Date, underLock: boolean, guardedHold: boolean): Promise<Verdict> {
  // Under the locks, with no webhook answer to keep on the decline, the budget's guarded update and
  // the hold's answer all or nothing (DESIGN §3 step 2): no read first. Their refusals become
  // declines (answerLostRace).
  if (guardedHold && underLock && !partial) return { amount: requested };
  let remaining = Number.MAX_SAFE_INTEGER;
  let fundingId = card.ledger_account_id;
  if (card.budget_id) {
    let budget;
    try {
      const expected = { currency: card.currency, lock: 'none' as const };
      budget = await budgets.requireBudgetForCard(db, card.organization_id, card.budget_id, expected, 'cardId');
    } catch (error) {
      if (error instanceof ApiError && error.code === 'budget_closed') return { reason: 'budget_closed' };
      throw error;
    }
    remaining = await budgets.remainingOf(db, budget, clock());
    // A budget card is always issued on its budget's account (cards service).
    fundingId = budget.account_ledger_account_id;
  }
  const available = await availableOf(db, fundingId);
  const allowed = Math.min(remaining, available);
  if (allowed >= requested) return { amount: requested };
  if (partial && allowed > 0) return { amount: allowed };
  return { reason: remaining < requested ? 'budget_exceeded' : 'insufficient_funds' };
}

/** Every rule, in the order of API.md. */
async function rulesVerdict(
  db: Queryable, req: Request, card: CardRow, sets: ControlSet[], clock: () => Date, inTransaction: boolean, guardedHold = false,
  cap = req.body.amount,
): Promise<Verdict> {
  const now = clock();
  const usable = cardUsable(card, req.body.entryMode, now);
  if (usable) return { reason: usable };
  if (req.currency !== card.currency) return { reason: 'currency_mismatch' };
  const controlled = await checkSpendControls(db, req.organizationId, sets, req.body.amount, req.body.merchant, now);
  if (controlled) return { reason: controlled };
  return fundsVerdict(db, card, Math.min(req.body.amount, cap), req.partial, clock, inTransaction, guardedHold);
}

/** Applies the webhook's answer to what the rules approved. */
function afterWebhook(verdict: { amount: number }, decision: Decision | null, partial: boolean): Verdict {
  if (!decision) return verdict;
  if (!decision.approved) return { reason: 'webhook_declined' };
  if (decision.amount === undefined || decision.amount >= verdict.amount) return verdict;
  return partial ? { amount: decision.amount } : { reason: 'webhook_declined' };
}

/** The same network message arrived twice and the other copy committed first. */
class DuplicateNetworkMessage extends Error {}

/** The budget's counter refused the amount of an authorization already written: roll back, store the decline. */
class BudgetRefused extends Error {
  constructor(readonly reason: budgets.BudgetRefusal) {
    super(reason);
  }
}

/** The row of an approval cut down to `amount`, or turned into a decline (the budget gave less). */
function approvedAt(row: repo.AuthorizationRow, granted: number | budgets.BudgetRefusal) {
  const approved = typeof granted === 'number';
  const amount = approved ? granted : 0;
  Object.assign(row, {
    status: approved ? 'pending' : 'declined', approved, decline_reason: approved ? null : granted,
    approved_amount: amount, held_amount: amount, expires_at: approved ? row.expires_at : null,
    history: [{ ...row.history[0], amount, approved, reason: approved ? null : granted }],
  });
}

/**
 * A budget card's approval takes its amount from the budget's counter, in this transaction and as
 * late as possible (the counter row is the budget's hot row): in the hold's statement (its gate,
 * which comes here only when that gate was closed), or, for a terminal that accepts less, before
 * the authorization is written (the amount may shrink).
 */
async function claimBudget(tx: Queryable, row: repo.AuthorizationRow, budgetId: string) {
  const partial = row.partial_approval_supported;
  const granted = await budgets.claimSpend(tx, row.organization_id, budgetId, row.held_amount, row.created_at, partial);
  if (partial) approvedAt(row, granted);
  else if (typeof granted !== 'number') throw new BudgetRefused(granted);
}

/**
 * How store() ends the transaction. `flight`: its statements go out together with COMMIT right
 * behind them (commitEarly), each refusing in SQL; a budget gate found closed then rolls it all
 * back with GateClosed, and the caller runs it again in `steps`: one statement after another, a
 * closed gate answered by claimBudget in the same transaction.
 */
type StoreMode = 'flight' | 'steps';

/**
 * Stores the authorization (with its hold when approved) and records its event. The hold comes
 * last: every authorization of the organization credits its settlement account (and a budget
 * card's debits its budget's account and takes its counter, in the hold's statement), so those
 * rows are locked only while the database runs the rest of the flight and commits, never across
 * a round trip through this process.
 */
async function store(ctx: Ctx, tx: Transaction, row: repo.AuthorizationRow, card: CardRow, settlementId: string, fundingId?: string, mode: StoreMode = 'flight') {
  const holdId = newId('tr', row.created_at.getTime());
  if (row.approved && card.budget_id && row.partial_approval_supported) await claimBudget(tx, row, card.budget_id);
  if (row.approved) row.hold_ids = [{ id: holdId, amount: row.held_amount }];
  const hold: ledger.NewTransfer | undefined = !row.approved ? undefined : {
    id: holdId, organizationId: row.organization_id, kind: 'pending', debitAccountId: fundingId ?? await fundingAccountId(tx, card),
    creditAccountId: settlementId, amount: row.held_amount, currency: row.currency, code: 'authorization',
    referenceType: 'card', referenceId: card.id, description: row.merchant.name, at: row.created_at,
  };
  const gated = hold && card.budget_id && !row.partial_approval_supported ? card.budget_id : null;
  if (mode === 'steps') {
    const inserted = await repo.insertAuthorization(tx, row);
    if (!inserted) throw new DuplicateNetworkMessage();
    const authorization = present(inserted);
    await recordEvent(tx, { organizationId: row.organization_id, type: 'authorization.created', resourceId: row.id, data: authorization, at: row.created_at });
    if (hold) await (gated ? gatedHold(tx, row, hold, gated) : ledger.transfer(tx, hold));
    return authorization;
  }
  // The event carries what the row will read back as (jsonb keeps the same values).
  const inserted = repo.insertAuthorization(tx, row);
  const event = recordEvent(tx, { organizationId: row.organization_id, type: 'authorization.created', resourceId: row.id, data: present(row), at: row.created_at });
  const gate = gated ? budgets.spendGate(row.organization_id, gated, row.held_amount, row.created_at) : undefined;
  const held = hold && ledger.transfer(tx, { ...hold, gate, refuseInSql: true });
  tx.commitEarly();
  // Answers come back in the order sent; the first refusal is the one to report (the statements
  // behind it only failed because the transaction was already aborted).
  const [stored, ...rest] = await Promise.allSettled([inserted, event, held]);
  if (stored.status === 'rejected') throw stored.reason;
  if (!stored.value) throw new DuplicateNetworkMessage();
  for (const settled of rest) if (settled.status === 'rejected') throw settled.reason;
  return present(stored.value);
}

/**
 * A budget card's hold with the budget's guarded update in its statement (budgets.spendGate). A
 * closed gate wrote nothing: claimBudget then says why (or makes the period's missing row and
 * grants), and the hold follows on its own.
 */
async function gatedHold(tx: Queryable, row: repo.AuthorizationRow, hold: ledger.NewTransfer, budgetId: string) {
  try {
    await ledger.transfer(tx, { ...hold, gate: budgets.spendGate(row.organization_id, budgetId, row.held_amount, row.created_at) });
  } catch (error) {
    if (!(error instanceof ledger.GateClosed)) throw error;
    await claimBudget(tx, row, budgetId);
    await ledger.transfer(tx, hold);
  }
}

/**
 * A PIN keyed in at the terminal, checked right after the card's status and expiry (a card that
 * cannot pay declines for that, without counting a try). The check and, when the PIN is refused,
 * the decline commit in one transaction under the card lock, so two racing tries count twice and
 * a duplicate network message (rolled back) counts none. Null: the PIN is right, carry on.
 */
function checkPin(ctx: Ctx, req: Request, card: CardRow, ttl: number): Promise<Authorization | null> {
  return ctx.db.transaction(async (tx) => {
    const locked = await lockCard(tx, req.organizationId, card.id);
    const now = ctx.clock.now();
    if (cardUsable(locked, req.body.entryMode, now)) return null;
    const check = await verifyPin(ctx, tx, locked, req.body.pin!, req.id, now);
    if (check === 'ok') return null;
    return store(ctx, tx, newRow(req, locked, { reason: check }, null, ttl, now), locked, '');
  });
}

function storeDecline(ctx: Ctx, req: Request, card: CardRow, reason: DeclineReason, decision: Decision | null, ttl: number) {
  return ctx.db.transaction(async (tx) => store(ctx, tx, newRow(req, card, { reason }, decision, ttl, ctx.clock.now()), card, ''));
}

/** A hold the guarded updates refused, or a duplicate network message: answered as before. */
function answerLostRace(ctx: Ctx, req: Request, card: CardRow, ttl: number, error: unknown): Promise<Authorization> {
  if (error instanceof DuplicateNetworkMessage) return storedAnswer(ctx, req.organizationId, req.body.networkId!);
  // The budget could not grant the amount (closed, or spent by the budget's other cards), or the
  // funding account could not cover the hold (spent by someone else, or never enough).
  const reason = error instanceof BudgetRefused ? error.reason : isInsufficientFunds(error) ? 'insufficient_funds' : null;
  if (reason) return storeDecline(ctx, req, card, reason, null, ttl).catch((e) => {
    if (e instanceof DuplicateNetworkMessage) return storedAnswer(ctx, req.organizationId, req.body.networkId!);
    throw e;
  });
  throw error;
}

/**
 * The path of a program without a decision webhook, once this process knows the settlement
 * account: ONE transaction that locks the card together with its program's and holder's inputs,
 * runs every rule and stores the authorization, its event and its hold. Undefined when the
 * program has a decision webhook (the caller takes the full path; this transaction did nothing).
 */
async function authorizeUnderLock(ctx: Ctx, req: Request, settlementId: string, mode: StoreMode = 'flight'): Promise<Authorization | undefined> {
  let card: repo.LockedCard | undefined;
  try {
    return await withLockWait(ctx, async (tx) => {
      card = await repo.lockCardForAuthorization(tx, req.organizationId, req.body.cardId);
      if (!card) throw notFound('Card');
      if (card.program_has_webhook) return undefined;
      const sets = controlSets(card, card.program_spend_controls, card.holder_spend_controls);
      // The clock is read after the card lock, so that the limits count every earlier hold.
      const now = ctx.clock.now();
      const verdict = await rulesVerdict(tx, req, card, sets, () => ctx.clock.now(), true, true);
      const fundingId = card.budget_id ? card.debit_account_ledger_id : card.ledger_account_id;
      return store(ctx, tx, newRow(req, card, verdict, null, card.program_hold_ttl_hours, now), card, settlementId, fundingId, mode);
    });
  } catch (error) {
    if (!card) throw error;
    // The budget's gate was closed (its period's counter is missing, or too little is left): all
    // of it rolled back; once more, step by step, where claimBudget answers it.
    if (error instanceof ledger.GateClosed && mode === 'flight') return authorizeUnderLock(ctx, req, settlementId, 'steps');
    return answerLostRace(ctx, req, card, card.program_hold_ttl_hours, error);
  }
}

/** Decides an authorization (decide below) and counts the decision and its path for GET /metrics. */
export async function authorize(ctx: Ctx, organizationId: string, body: CreateAuthorizationBody): Promise<Authorization> {
  const { authorization, path } = await decide(ctx, organizationId, body);
  ctx.metrics?.authorization(authorization.approved, authorization.declineReason, path);
  return authorization;
}

/** The path that answered (the functions below), as GET /metrics counts them. */
type AuthorizationPath = 'one_statement' | 'under_lock' | 'in_steps' | 'replayed';

async function decide(
  ctx: Ctx, organizationId: string, body: CreateAuthorizationBody,
): Promise<{ authorization: Authorization; path: AuthorizationPath }> {
  if (body.pin !== undefined && !PIN_ENTRY_MODES.has(body.entryMode)) {
    throw unprocessable('validation_failed', 'A PIN is keyed in at a terminal: entryMode chip, swipe or contactless.', 'pin');
  }
  if (body.networkId) {
    const existing = await repo.findByNetworkId(ctx.db, organizationId, body.networkId);
    if (existing) return { authorization: present(existing), path: 'replayed' };
  }
  const req: Request = { id: newId('auth', ctx.clock.now().getTime()), organizationId, body, currency: body.currency.toUpperCase(), partial: body.partialApprovalSupported ?? false };
  // A request in another currency than the card's is declined before any hold, so the settlement
  // account of the request's currency is the one a hold would credit.
  const settlementId = knownSettlementAccountId(organizationId, req.currency);
  // A keyed-in PIN is checked (and a wrong one counted) in a transaction of its own before the
  // rules, which only the full path does: such a payment never takes the shorter paths.
  if (settlementId && body.pin === undefined) {
    const one = await authorizeInOneStatement(ctx, req, settlementId);
    if (one) return { authorization: one, path: 'one_statement' };
    const locked = await authorizeUnderLock(ctx, req, settlementId);
    if (locked) return { authorization: locked, path: 'under_lock' };
  }
  return { authorization: await authorizeInSteps(ctx, req), path: 'in_steps' };
}

/**
 * The full path: plain reads, the rules, the program's decision webhook outside any transaction,
 * then one transaction that re-checks under the card lock and stores. It also makes the
 * settlement account on a process's first authorization in a currency.
 */
async function authorizeInSteps(ctx: Ctx, req: Request): Promise<Authorization> {
  const { organizationId, body } = req;
  const card = await viewCard(ctx.db, organizationId, body.cardId);
  const program = await programs.findProgramRow(ctx.db, organizationId, card.program_id);
  const holder = card.card_holder_id ? await cardHolders.findCardHolder(ctx.db, organizationId, card.card_holder_id) : undefined;
  const sets = controlSets(card, program.default_spend_controls, holder?.spend_controls ?? null);
  try {
    if (body.pin !== undefined) {
      const refused = await checkPin(ctx, req, card, program.hold_ttl_hours);
      if (refused) return refused;
    }
    let answered: Verdict = { amount: body.amount };
    let decision: Decision | null = null;
    // Without a decision webhook the rules run once, under the card lock below; with one, they
    // run first on plain reads, so that the webhook only hears about payments the rules allow.
    if (program.authorization_webhook) {
      const first = await rulesVerdict(ctx.db, req, card, sets, () => ctx.clock.now(), false);
      if ('reason' in first) return await storeDecline(ctx, req, card, first.reason, null, program.hold_ttl_hours);
      decision = await askForDecision(ctx, program, {
        authorizationId: req.id, cardId: card.id, amount: first.amount, currency: req.currency, merchant: body.merchant,
        entryMode: body.entryMode, partialApprovalSupported: req.partial,
        card: { status: card.status, lastFour: card.last_four, type: card.type, brand: card.brand, bin: card.bin, expiry: { month: card.expiry_month, year: card.expiry_year }, cardHolderId: card.card_holder_id, budgetId: card.budget_id, label: card.label },
      });
      answered = afterWebhook(first, decision, req.partial);
      if ('reason' in answered) return await storeDecline(ctx, req, card, answered.reason, decision, program.hold_ttl_hours);
    }
    const allowed = answered.amount;
    const settlementId = await settlementAccountId(ctx, organizationId, card.currency, ctx.clock.now());
    // A lost lock wait runs this transaction once more, then answers 503 retry_later (lock-wait.ts).
    return await withLockWait(ctx, async (tx) => {
      const locked = await lockCard(tx, organizationId, card.id);
      // The clock is read after the card lock, so that the limits count every earlier hold.
      const now = ctx.clock.now();
      // Every rule runs (again) under the card lock, and the budget's for a budget card: what the
      // webhook was told may have changed meanwhile (status, limits, funds). Funds and budget are
      // asked for no more than the webhook allowed, as the budget's counter takes what it grants.
      const again = await rulesVerdict(tx, req, locked, sets, () => ctx.clock.now(), true, false, allowed);
      const verdict: Verdict = 'reason' in again ? again : { amount: Math.min(again.amount, allowed) };
      // A budget card's step by step: a closed gate must not cost the webhook's answer.
      const mode: StoreMode = locked.budget_id ? 'steps' : 'flight';
      return store(ctx, tx, newRow(req, locked, verdict, decision, program.hold_ttl_hours, now), locked, settlementId, undefined, mode);
    });
  } catch (error) {
    return answerLostRace(ctx, req, card, program.hold_ttl_hours, error);
  }
}
