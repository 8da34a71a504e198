// The card lifecycle: status actions (client and simulator), shipping, funds between the debit
// account and the card, and replacement. Each command is one transaction that locks the card row,
// checks the status machine, moves money through the ledger, records the status change and the
// event. A card that leaves for good (cancelled, expired, rejected) returns its available balance
// to its debit account in the same transaction.
import { randomBytes } from 'node:crypto';
import type { Ctx } from '../../platform/context.ts';
import type { Queryable } from '../../platform/db.ts';
import { ApiError, notFound, unprocessable } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import * as accounts from '../accounts/accounts.service.ts';
import { changedAttributes, recordEvent } from '../events/events.service.ts';
import type { EventType } from '../events/events.catalog.ts';
import * as ledger from '../ledger/ledger.service.ts';
import * as programs from '../card-programs/card-programs.service.ts';
import { nextStatus, TERMINAL, type Actor, type CardAction } from './card-status.ts';
import * as repo from './cards.repo.ts';
import type { CardStatus, ReplaceBody, UpdateCardBody } from './cards.schemas.ts';
import { openCard, readCard, viewCard as view } from './cards.service.ts';
import * as tokenizations from '../tokenizations/tokenizations.service.ts';
import type { ListQuery } from '../../platform/pagination.ts';

const ACTION_EVENTS: Record<CardAction, EventType> = {
  freeze: 'card.frozen', unfreeze: 'card.unfrozen', activate: 'card.activated', cancel: 'card.cancelled',
  issue: 'card.issued', fail: 'card.rejected', ship: 'card.shipped', deliver: 'card.delivered',
  expire: 'card.expired', suspend: 'card.suspended', reinstate: 'card.reinstated',
};

export interface Shipping { status: 'pending' | 'shipped' | 'delivered'; trackingNumber: string | null; shippedAt: string | null; deliveredAt: string | null }

async function lock(tx: Queryable, organizationId: string, id: string) {
  const row = await repo.lockCard(tx, organizationId, id);
  if (!row) throw notFound('Card');
  return row;
}

/** Returns the card's available balance to its debit account (cancellation, expiry, rejection, replacement). */
export async function sweepBalance(tx: Queryable, card: repo.CardRow, toLedgerAccountId: string, code: string, at: Date) {
  const { available } = ledger.balanceOf(await ledger.getAccount(tx, card.ledger_account_id));
  if (available <= 0) return 0;
  await ledger.transfer(tx, {
    organizationId: card.organization_id, debitAccountId: card.ledger_account_id, creditAccountId: toLedgerAccountId,
    amount: available, currency: card.currency, code, referenceType: 'card', referenceId: card.id, at,
  });
  return available;
}

async function debitAccountLedgerId(tx: Queryable, card: repo.CardRow) {
  const account = await accounts.findForCard(tx, card.organization_id, card.debit_account_id);
  return account.ledger_account_id;
}

interface ActionOptions {
  actor?: Actor;
  reason?: string | null;
}

/** Applies one action of the status machine to a locked card, inside the caller's transaction. */
export async function applyAction(ctx: Ctx, tx: Queryable, card: repo.CardRow, action: CardAction, options: ActionOptions, now: Date) {
  const program = await programs.findProgramRow(tx, card.organization_id, card.program_id);
  const previousStatus = (await repo.statusBefore(tx, card.organization_id, card.id, card.status)) as CardStatus | null;
  const to = nextStatus(action, { status: card.status, type: card.type, previousStatus, digitalInTransit: program.digital_in_transit });
  const changes: repo.CardChanges = {};
  if (to !== card.status) changes.status = to;
  if (to === 'active' && !card.activated_at) changes.activated_at = now;
  if (TERMINAL.has(to)) changes.cancelled_at = to === 'cancelled' ? now : card.cancelled_at;
  if (action === 'ship' || action === 'deliver') changes.shipping = shippingAfter(card, action, now);
  if (Object.keys(changes).length) await repo.updateCard(tx, card.organization_id, card.id, changes, now);
  // Wallet tokens follow the card: suspended with it, back with it, terminated with it.
  if (to !== card.status) await tokenizations.followCardStatus(tx, card.organization_id, card.id, to, now);
  await repo.insertStatusChange(tx, {
    id: newId('csc', now.getTime()), organization_id: card.organization_id, card_id: card.id, action,
    from_status: card.status, to_status: to, actor: options.actor ?? 'client', reason: options.reason ?? null, created_at: now,
  });
  // Every terminal status settles the card: a card that ends never keeps money, whichever path
  // ended it (client cancel, simulator fail or expire, replacement).
  if (TERMINAL.has(to)) {
    await sweepBalance(tx, card, await debitAccountLedgerId(tx, card), 'card_balance_return', now);
  }
  if (action === 'activate' && card.replaces_card_id) await completeReplacement(ctx, tx, card, now);
  const after = await readCard(tx, card.organization_id, card.id);
  await recordEvent(tx, {
    organizationId: card.organization_id, type: ACTION_EVENTS[action], resourceId: card.id, data: after,
    previousAttributes: to !== card.status ? { status: card.status } : null, at: now,
  });
  return after;
}

function shippingAfter(card: repo.CardRow, action: 'ship' | 'deliver', now: Date): Shipping {
  if (card.type !== 'physical' || !card.shipping) throw unprocessable('not_physical', 'Only physical cards ship.', 'id');
  const shipping = card.shipping as Shipping;
  if (action === 'ship') {
    if (shipping.status !== 'pending') throw new ApiError(409, 'invalid_shipping_transition', `The card is already ${shipping.status}.`);
    return { ...shipping, status: 'shipped', trackingNumber: `PG${randomBytes(8).toString('hex').toUpperCase()}`, shippedAt: now.toISOString() };
  }
  if (shipping.status !== 'shipped') throw new ApiError(409, 'invalid_shipping_transition', `A card that is ${shipping.status} cannot be delivered.`);
  return { ...shipping, status: 'delivered', deliveredAt: now.toISOString() };
}

/** Runs one action as its own command. */
export function act(ctx: Ctx, organizationId: string, id: string, action: CardAction, options: ActionOptions = {}) {
  return ctx.db.transaction(async (tx) => {
    const card = await lock(tx, organizationId, id);
    return applyAction(ctx, tx, card, action, options, ctx.clock.now());
  });
}

/**
 * When the replacement of a damaged or expired card is activated, the old card is cancelled and
 * its balance moves to the new one.
 */
async function completeReplacement(ctx: Ctx, tx: Queryable, card: repo.CardRow, now: Date) {
  const old = await lock(tx, card.organization_id, card.replaces_card_id!);
  if (TERMINAL.has(old.status)) return;
  await sweepBalance(tx, old, card.ledger_account_id, 'card_replacement_transfer', now);
  await tokenizations.moveToCard(tx, card.organization_id, old.id, card.id, now);
  await applyAction(ctx, tx, old, 'cancel', { actor: 'system', reason: `replaced by ${card.id}` }, now);
}

export { lock as lockCard, view as viewCard };

/** PATCH /cards/:id: label, spend controls and metadata; a status goes through the status machine. */
export function updateCard(ctx: Ctx, organizationId: string, id: string, body: UpdateCardBody) {
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const card = await lock(tx, organizationId, id);
    const changes: repo.CardChanges = {};
    if (body.label !== undefined) changes.label = body.label;
    if (body.spendControls !== undefined) changes.spend_controls = body.spendControls;
    if (body.metadata !== undefined) changes.metadata = body.metadata;
    let result = await readCard(tx, organizationId, id);
    if (Object.keys(changes).length) {
      if (TERMINAL.has(card.status)) throw new ApiError(409, 'card_closed', `The card is ${card.status} and cannot change.`);
      const before = result;
      await repo.updateCard(tx, organizationId, id, changes, now);
      result = await readCard(tx, organizationId, id);
      await recordEvent(tx, { organizationId, type: 'card.updated', resourceId: id, data: result, previousAttributes: changedAttributes(before, { ...result, updatedAt: before.updatedAt }), at: now });
    }
    if (body.status && body.status !== card.status) {
      const action: CardAction = body.status === 'locked' ? 'freeze' : body.status === 'cancelled' ? 'cancel'
        : card.status === 'issued' || card.status === 'digital' ? 'activate' : 'unfreeze';
      result = await applyAction(ctx, tx, await lock(tx, organizationId, id), action, { actor: 'client' }, now);
    }
    return result;
  });
}

/**
 * Replaces a card: a new card under the same program, holder and account, with a fresh number and
 * expiry. Lost or stolen: the old card is cancelled at once, its balance moves to the new card and
 * its wallet tokens end with it. Damaged or expired (renewal): the old card keeps working until
 * the new one is active (at once for a virtual card, at activation for a physical one), then its
 * balance and its wallet tokens move to the new card and it is cancelled. A card that already
 * expired can be renewed too (reason expired): its balance went back to the debit account and its
 * tokens ended when it expired, so the renewal starts empty, to be topped up.
 */
export function replaceCard(ctx: Ctx, organizationId: string, id: string, body: ReplaceBody) {
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const old = await lock(tx, organizationId, id);
    const renewable = old.status === 'expired' && body.reason === 'expired';
    if ((TERMINAL.has(old.status) && !renewable) || old.status === 'pending') {
      throw new ApiError(409, 'invalid_status_transition', old.status === 'expired'
        ? 'An expired card can only be renewed: replace it with reason expired.'
        : `A card that is ${old.status} cannot be replaced.`);
    }
    if (old.replaced_by_card_id) throw new ApiError(409, 'card_already_replaced', `The card was already replaced by ${old.replaced_by_card_id}.`);
    const program = await programs.findProgramRow(tx, organizationId, old.program_id);
    if (old.type === 'physical' && !body.deliveryAddress && !old.delivery_address) throw unprocessable('validation_failed', 'A physical replacement needs a deliveryAddress.', 'deliveryAddress');
    const fresh = await openCard(ctx, tx, {
      organization_id: organizationId, program_id: old.program_id, card_holder_id: old.card_holder_id, debit_account_id: old.debit_account_id,
      budget_id: old.budget_id, type: old.type, status: old.type === 'physical' ? 'issued' : 'active', label: old.label,
      external_id: old.external_id, mobile: old.mobile, first_name: old.first_name, last_name: old.last_name,
      delivery_address: old.type === 'physical' ? body.deliveryAddress ?? old.delivery_address : null,
      spend_controls: old.spend_controls, metadata: old.metadata, user_agent: old.user_agent, replaces_card_id: old.id,
    }, program, now, { dateOfBirth: null });
    await repo.updateCard(tx, organizationId, old.id, { replaced_by_card_id: fresh.id, replacement_reason: body.reason }, now);
    const immediate = body.reason === 'lost' || body.reason === 'stolen' || fresh.status === 'active';
    if (immediate && !TERMINAL.has(old.status)) {
      await sweepBalance(tx, old, fresh.ledger_account_id, 'card_replacement_transfer', now);
      // A thief's wallet must not keep paying: only a renewal or a damaged card hands its tokens on.
      if (body.reason === 'damaged' || body.reason === 'expired') await tokenizations.moveToCard(tx, organizationId, old.id, fresh.id, now);
      await applyAction(ctx, tx, await lock(tx, organizationId, old.id), 'cancel', { actor: 'client', reason: `replaced (${body.reason})` }, now);
    }
    const card = await readCard(tx, organizationId, fresh.id);
    await recordEvent(tx, { organizationId, type: 'card.created', resourceId: fresh.id, data: card, at: now });
    await recordEvent(tx, { organizationId, type: 'card.replaced', resourceId: old.id, data: await readCard(tx, organizationId, old.id), at: now });
    return card;
  });
}

export async function statusHistory(ctx: Ctx, organizationId: string, id: string, query: ListQuery) {
  await view(ctx.db, organizationId, id);
  const page = await repo.listStatusChanges(ctx.db, organizationId, id, query);
  return {
    data: page.rows.map((r) => ({
      id: r.id, action: r.action, fromStatus: r.from_status as CardStatus, toStatus: r.to_status as CardStatus,
      actor: r.actor as Actor, reason: r.reason, createdAt: r.created_at.toISOString(),
    })),
    meta: page.meta,
  };
}

/**
 * After a hold on a card is released (voided or expired), a card in a terminal status (cancelled,
 * expired, rejected) sends the freed money back to its debit account, in the caller's transaction.
 * The authorization module calls this after every release.
 */
export async function afterHoldReleased(tx: Queryable, organizationId: string, cardId: string, at: Date) {
  const card = await lock(tx, organizationId, cardId);
  if (!TERMINAL.has(card.status)) return 0;
  return sweepBalance(tx, card, await debitAccountLedgerId(tx, card), 'card_balance_return', at);
}
