// The steps after a decision: increment, capture, reversal and expiry. Each is one transaction
// that locks the authorization row (then the card row, the order every money path follows),
// resolves or places holds, updates the authorization and its history, creates the capture
// transaction where there is one, and records the events. A capture always succeeds, as the
// network forces it: after expiry, on a frozen or cancelled card, beyond the hold.
import type { Ctx } from '../../platform/context.ts';
import type { Queryable } from '../../platform/db.ts';
import { ApiError, notFound, unprocessable } from '../../platform/errors.ts';
import * as budgets from '../budgets/budgets.service.ts';
import * as cardHolders from '../card-holders/card-holders.service.ts';
import * as programs from '../card-programs/card-programs.service.ts';
import { afterHoldReleased, lockCard } from '../cards/card-lifecycle.service.ts';
import type { CardRow } from '../cards/cards.repo.ts';
import { recordEvent } from '../events/events.service.ts';
import * as ledger from '../ledger/ledger.service.ts';
import * as transactions from '../transactions/transactions.service.ts';
import type { CaptureBody, DeclineReason, HistoryEntry, IncrementBody, ReverseBody } from './authorizations.schemas.ts';
import * as repo from './authorizations.repo.ts';
import { cardUsable, present } from './authorizations.service.ts';
import { availableOf, forcedDebit, fundingAccountId, settlementAccountId } from './funding.ts';
import { withLockWait } from './lock-wait.ts';
import { checkSpendControls, controlSets } from './spend-controls.ts';

/** History entries kept per authorization; increments beyond it are refused. */
export const MAX_HISTORY_ENTRIES = 100;

interface Step {
  ctx: Ctx;
  tx: Queryable;
  auth: repo.AuthorizationRow;
  card: CardRow;
  settlementId: string;
  now: Date;
}

/** Runs `fn` on the locked authorization and its locked card, in one transaction. */
async function step<T>(ctx: Ctx, organizationId: string, id: string, fn: (s: Step) => Promise<T>) {
  const peek = await repo.findAuthorization(ctx.db, organizationId, id);
  if (!peek) throw notFound('Authorization');
  const settlementId = await settlementAccountId(ctx, organizationId, peek.currency, ctx.clock.now());
  // A lost lock wait runs the step once more, then answers 503 retry_later (lock-wait.ts).
  return withLockWait(ctx, async (tx) => {
    const auth = (await repo.findAuthorization(tx, organizationId, id, true))!;
    const card = await lockCard(tx, organizationId, auth.card_id);
    return fn({ ctx, tx, auth, card, settlementId, now: ctx.clock.now() });
  });
}

function entry(kind: HistoryEntry['kind'], amount: number, now: Date, reason: string | null = null, approved = true): HistoryEntry {
  return { kind, amount, approved, reason, at: now.toISOString() };
}

function requirePending(auth: repo.AuthorizationRow, action: string) {
  if (auth.status !== 'pending') throw new ApiError(409, 'authorization_not_pending', `A ${auth.status} authorization cannot be ${action}.`);
}

/**
 * Keeps a budget card's budget counter equal to the step's transfers (budgets.recordSpend): each
 * change counts in its hold's period (`holdId`) or now. Called before the step's ledger calls, in
 * ascending period order (holds oldest first, then now), as every budget path takes its rows.
 * `lock`: a zero change that only takes now's row (a capture's forced part adds to it later).
 */
async function countOnBudget(s: Step, changes: Array<{ holdId: string | null; spent: number; lock?: boolean }>) {
  if (!s.card.budget_id) return;
  for (const c of changes) {
    if (c.spent === 0 && !c.lock) continue;
    await budgets.recordSpend(s.tx, s.auth.organization_id, s.card.budget_id, { at: s.now, holdId: c.holdId, spent: c.spent });
  }
}

/** What releasing every open hold gives back to the budget. */
const releasedHolds = (s: Step) => s.auth.hold_ids.map((hold) => ({ holdId: hold.id, spent: -hold.amount }));

/** Resolves every open hold (void or expire). */
async function releaseAll(s: Step, kind: 'void' | 'expire') {
  for (const hold of s.auth.hold_ids) await ledger.resolvePending(s.tx, s.auth.organization_id, hold.id, kind, s.now);
}

/** A card that ended (cancelled, expired, rejected) gives the money freed by a release back to its debit account. */
async function giveBackFreed(s: Step) {
  if (s.auth.hold_ids.length) await afterHoldReleased(s.tx, s.auth.organization_id, s.card.id, s.now);
}

async function newHold(s: Step, amount: number) {
  const hold = await ledger.transfer(s.tx, {
    organizationId: s.auth.organization_id, kind: 'pending', debitAccountId: await fundingAccountId(s.tx, s.card), creditAccountId: s.settlementId,
    amount, currency: s.auth.currency, code: 'authorization', referenceType: 'card', referenceId: s.card.id, description: s.auth.merchant.name, at: s.now,
  });
  return { id: hold.id, amount };
}

async function finish(s: Step, changes: repo.AuthorizationChanges, historyEntry: HistoryEntry, type: 'authorization.incremented' | 'authorization.captured' | 'authorization.reversed' | 'authorization.expired') {
  const row = await repo.updateAuthorization(s.tx, s.auth.organization_id, s.auth.id, changes, historyEntry, s.now);
  const authorization = present(row);
  await recordEvent(s.tx, { organizationId: row.organization_id, type, resourceId: row.id, data: authorization, at: s.now });
  return authorization;
}

/** Why an increment cannot be approved (the card, the budget, the funds), or null. */
async function incrementDecline(s: Step, amount: number): Promise<DeclineReason | null> {
  const usable = cardUsable(s.card, s.auth.entry_mode, s.now);
  if (usable) return usable;
  if (s.card.budget_id) {
    let budget;
    try {
      const expected = { currency: s.card.currency, lock: 'none' as const };
      budget = await budgets.requireBudgetForCard(s.tx, s.card.organization_id, s.card.budget_id, expected, 'cardId');
    } catch (error) {
      if (error instanceof ApiError && error.code === 'budget_closed') return 'budget_closed';
      throw error;
    }
    // A read that orders the decline reasons; the budget's counter decides last (increment).
    if ((await budgets.remainingOf(s.tx, budget, s.now)) < amount) return 'budget_exceeded';
  }
  const controlled = await incrementControls(s, amount);
  if (controlled) return controlled;
  if ((await availableOf(s.tx, await fundingAccountId(s.tx, s.card))) < amount) return 'insufficient_funds';
  return null;
}

/**
 * Spend controls of program, card holder and card for an increment: interval limits count the
 * increment on top of what is already held and captured; a per-transaction cap applies to the
 * authorization's new total.
 */
async function incrementControls(s: Step, amount: number): Promise<DeclineReason | null> {
  const organizationId = s.card.organization_id;
  const program = await programs.findProgramRow(s.tx, organizationId, s.card.program_id);
  const holder = s.card.card_holder_id ? await cardHolders.findCardHolder(s.tx, organizationId, s.card.card_holder_id) : undefined;
  const sets = controlSets(s.card, program.default_spend_controls, holder?.spend_controls ?? null);
  const only = (perTransaction: boolean) => sets.map((set) => ({
    ...set, controls: { ...set.controls, limits: (set.controls?.limits ?? []).filter((l) => (l.interval === 'per_transaction') === perTransaction) },
  }));
  return await checkSpendControls(s.tx, organizationId, only(false), amount, s.auth.merchant, s.now)
    ?? await checkSpendControls(s.tx, organizationId, only(true), s.auth.approved_amount + amount, s.auth.merchant, s.now);
}

/** The budget's guarded update for an increment, right before its hold: null, or why it refused. */
async function claimOnBudget(s: Step, amount: number): Promise<DeclineReason | null> {
  if (!s.card.budget_id) return null;
  const granted = await budgets.claimSpend(s.tx, s.auth.organization_id, s.card.budget_id, amount, s.now);
  return typeof granted === 'number' ? null : granted;
}

/** An incremental authorization: all or nothing; a decline is recorded in the history. */
export function increment(ctx: Ctx, organizationId: string, id: string, body: IncrementBody) {
  return step(ctx, organizationId, id, async (s) => {
    requirePending(s.auth, 'incremented');
    if (s.auth.history.length >= MAX_HISTORY_ENTRIES) throw new ApiError(409, 'too_many_steps', `An authorization keeps at most ${MAX_HISTORY_ENTRIES} steps.`);
    const claimed = await incrementDecline(s, body.amount) ?? await claimOnBudget(s, body.amount);
    if (claimed) return finish(s, {}, entry('increment', body.amount, s.now, claimed, false), 'authorization.incremented');
    const hold = await newHold(s, body.amount);
    return finish(s, {
      approved_amount: s.auth.approved_amount + body.amount, held_amount: s.auth.held_amount + body.amount, hold_ids: [...s.auth.hold_ids, hold],
    }, entry('increment', body.amount, s.now), 'authorization.incremented');
  });
}

/** What an expired authorization held when it expired: the default amount of a late capture. */
const expiredAmount = (auth: repo.AuthorizationRow) => [...auth.history].reverse().find((h) => h.kind === 'expiry')?.amount ?? auth.approved_amount;

/**
 * Captures the authorization: its holds are posted up to the amount (the rest released) and
 * anything beyond them is debited as a forced single transfer, with any shortfall booked as a
 * receivable. After expiry the holds are gone and the whole amount is forced.
 */
export function capture(ctx: Ctx, organizationId: string, id: string, body: CaptureBody) {
  return step(ctx, organizationId, id, async (s) => {
    if (s.auth.status !== 'pending' && s.auth.status !== 'expired') {
      throw new ApiError(409, 'authorization_not_capturable', `A ${s.auth.status} authorization cannot be captured.`);
    }
    const amount = body.amount ?? (s.auth.status === 'pending' ? s.auth.held_amount : expiredAmount(s.auth));
    if (amount <= 0) throw unprocessable('invalid_amount', 'Nothing is held: give the amount to capture.', 'amount');
    let left = amount;
    const posts = s.auth.hold_ids.map((hold) => {
      const posted = Math.min(left, hold.amount);
      left -= posted;
      return { hold, posted };
    });
    // A hold now counts at its posted amount; the forced part (forcedDebit) adds to now's row.
    await countOnBudget(s, [...posts.map((p) => ({ holdId: p.hold.id, spent: p.posted - p.hold.amount })),
      ...(left > 0 ? [{ holdId: null, spent: 0, lock: true }] : [])]);
    for (const { hold, posted } of posts) await ledger.resolvePending(s.tx, organizationId, hold.id, 'post', s.now, posted);
    if (s.auth.held_amount > amount) await afterHoldReleased(s.tx, organizationId, s.card.id, s.now);
    const receivable = left > 0 ? await forcedDebit(s.tx, {
      organizationId, cardId: s.card.id, fundingId: await fundingAccountId(s.tx, s.card), settlementId: s.settlementId,
      amount: left, currency: s.auth.currency, code: 'authorization', at: s.now, budgetId: s.card.budget_id,
    }) : 0;
    const authorization = await finish(s, { status: 'closed', captured_amount: amount, held_amount: 0, hold_ids: [] }, entry('capture', amount, s.now), 'authorization.captured');
    await transactions.recordTransaction(s.tx, {
      organizationId, card: s.card, authorizationId: s.auth.id, relatedTransactionId: null, type: 'capture', amount,
      receivableAmount: receivable, currency: s.auth.currency, merchant: s.auth.merchant, at: s.now,
    });
    return authorization;
  });
}

/** Releases all of the hold, or part of it: the holds are voided and the rest is held again. */
export function reverse(ctx: Ctx, organizationId: string, id: string, body: ReverseBody) {
  return step(ctx, organizationId, id, async (s) => {
    requirePending(s.auth, 'reversed');
    const amount = body.amount ?? s.auth.held_amount;
    if (amount > s.auth.held_amount) throw unprocessable('amount_exceeds_hold', `Only ${s.auth.held_amount} is held.`, 'amount');
    const rest = s.auth.held_amount - amount;
    // The holds are voided and the rest held again now: it counts in now's period.
    await countOnBudget(s, [...releasedHolds(s), { holdId: null, spent: rest }]);
    await releaseAll(s, 'void');
    const holds = rest > 0 ? [await newHold(s, rest)] : [];
    // Only after the rest is held again: a cancelled card keeps what the network may still capture.
    await giveBackFreed(s);
    return finish(s, { status: rest > 0 ? 'pending' : 'reversed', held_amount: rest, hold_ids: holds }, entry('reversal', amount, s.now), 'authorization.reversed');
  });
}

/** Releases the whole hold at once (the sweeper, or the simulator's /expire). */
async function expireLocked(s: Step) {
  requirePending(s.auth, 'expired');
  await countOnBudget(s, releasedHolds(s));
  await releaseAll(s, 'expire');
  await giveBackFreed(s);
  return finish(s, { status: 'expired', held_amount: 0, hold_ids: [] }, entry('expiry', s.auth.held_amount, s.now), 'authorization.expired');
}

export function expire(ctx: Ctx, organizationId: string, id: string) {
  return step(ctx, organizationId, id, expireLocked);
}

/** For the sweeper: expires a claimed (locked) authorization inside its transaction. */
export async function expireClaimed(ctx: Ctx, tx: Queryable, auth: repo.AuthorizationRow, now: Date) {
  const card = await lockCard(tx, auth.organization_id, auth.card_id);
  // Expiry places no new hold, so it needs no settlement account.
  return expireLocked({ ctx, tx, auth, card, settlementId: '', now });
}
