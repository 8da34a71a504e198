// Card PINs: set through the API (PUT /cards/:id/pin) or by the card holder on the hosted PIN page
// (a single-use link made by POST /cards/:id/pin-sessions). Both paths apply the rules of pin.ts
// and store only the keyed hash bound to the card. The PIN is never returned, never put in an
// event and never logged; `card.pin_updated` says only that a PIN is set.
import { timingSafeEqual } from 'node:crypto';
import type { Ctx } from '../../platform/context.ts';
import { randomToken } from '../../platform/crypto.ts';
import type { Queryable } from '../../platform/db.ts';
import { ApiError, conflict, unprocessable } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import * as cardHolders from '../card-holders/card-holders.service.ts';
import { recordEvent } from '../events/events.service.ts';
import { lockCard, viewCard } from './card-lifecycle.service.ts';
import * as repo from './card-pins.repo.ts';
import type { PinPageBody, PinSession, PinStatus } from './card-pins.schemas.ts';
import { TERMINAL } from './card-status.ts';
import type { CardRow } from './cards.repo.ts';
import { hashPin, weakPinReason } from './pin.ts';

/** Wrong PINs in a row that block the PIN (until a new PIN is set), as card networks do. */
export const MAX_PIN_TRIES = 3;

/** What a PIN entered at the point of sale says: right, wrong, blocked, or no PIN to check. */
export type PinCheck = 'ok' | 'incorrect_pin' | 'pin_blocked' | 'pin_not_set';

/**
 * Checks a PIN entered on a card-present authorization against the locked card, in the caller's
 * transaction (the one that stores the decline, so the count and the decline commit together).
 * A wrong PIN counts; the MAX_PIN_TRIES-th in a row blocks the PIN and records card.pin_blocked.
 * A right PIN resets the count. A blocked PIN stays blocked, right PIN or not. The PIN is only
 * ever hashed and compared, never stored or logged.
 */
export async function verifyPin(ctx: Ctx, tx: Queryable, card: CardRow, pin: string, authorizationId: string, now: Date): Promise<PinCheck> {
  if (card.pin_blocked_at) return 'pin_blocked';
  if (!card.pin_hash) return 'pin_not_set';
  const entered = Buffer.from(hashPin(ctx.vault, card.id, pin));
  const stored = Buffer.from(card.pin_hash);
  if (entered.length === stored.length && timingSafeEqual(entered, stored)) {
    if (card.pin_failed_attempts > 0) await repo.storePinTries(tx, card.organization_id, card.id, 0, null);
    return 'ok';
  }
  const failedAttempts = card.pin_failed_attempts + 1;
  const blockedAt = failedAttempts >= MAX_PIN_TRIES ? now : null;
  await repo.storePinTries(tx, card.organization_id, card.id, failedAttempts, blockedAt);
  if (blockedAt) {
    await recordEvent(tx, {
      organizationId: card.organization_id, type: 'card.pin_blocked', resourceId: card.id, at: now,
      data: { cardId: card.id, isPinBlocked: true, failedAttempts, blockedAt: now.toISOString(), authorizationId },
    });
  }
  return 'incorrect_pin';
}

/** How long a hosted PIN link works: long enough to open a message and type twice. */
export const PIN_SESSION_TTL_MS = 10 * 60 * 1000;
/** Random bytes of a PIN session token (32 base64url characters). */
export const PIN_SESSION_TOKEN_BYTES = 24;

type PinSource = 'api' | 'hosted_page';

/** `pinses_…` ids, time-ordered like every id (the prefix is not in ids.ts's list yet). */
const newSessionId = (now: Date) => newId('pinses', now.getTime());

const invalidLink = () => new ApiError(404, 'not_found', 'This PIN link is not valid: it is unknown, already used or expired.');

/** A cancelled, expired or rejected card never changes again, its PIN included. */
function requireUsable(card: Pick<CardRow, 'status'>) {
  if (TERMINAL.has(card.status)) {
    throw conflict('card_not_usable', `The card is ${card.status}: its PIN can no longer change.`);
  }
}

/** Checks the PIN against the rules and stores its keyed hash, in the caller's transaction. */
async function applyPin(ctx: Ctx, tx: Queryable, organizationId: string, cardId: string, pin: string, source: PinSource, now: Date): Promise<PinStatus> {
  // The card row stays locked until commit: a concurrent cancel waits, or happened before.
  const card = await lockCard(tx, organizationId, cardId);
  requireUsable(card);
  const holder = card.card_holder_id ? await cardHolders.findCardHolder(tx, organizationId, card.card_holder_id) : undefined;
  const reason = weakPinReason(pin, { dateOfBirth: holder?.date_of_birth ?? null, lastFour: card.last_four });
  if (reason) throw unprocessable('weak_pin', `The PIN is too easy to guess (${reason}).`, 'pin');
  await repo.storePinHash(tx, organizationId, cardId, hashPin(ctx.vault, cardId, pin), now);
  const status: PinStatus = { cardId, isPinSet: true, updatedAt: now.toISOString() };
  await recordEvent(tx, { organizationId, type: 'card.pin_updated', resourceId: cardId, data: { ...status, source }, at: now });
  return status;
}

export function setPin(ctx: Ctx, organizationId: string, cardId: string, pin: string) {
  return ctx.db.transaction((tx) => applyPin(ctx, tx, organizationId, cardId, pin, 'api', ctx.clock.now()));
}

/**
 * A single-use link to the hosted PIN page. Only the keyed hash of the token is stored; the
 * card's earlier open links stop working, so at most one link per card is live.
 */
export function createPinSession(ctx: Ctx, organizationId: string, cardId: string, baseUrl: string): Promise<PinSession> {
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    requireUsable(await lockCard(tx, organizationId, cardId));
    await repo.expireOpenSessions(tx, organizationId, cardId, now);
    const token = randomToken(PIN_SESSION_TOKEN_BYTES);
    const expiresAt = new Date(now.getTime() + PIN_SESSION_TTL_MS);
    const id = newSessionId(now);
    await repo.insertSession(tx, {
      id, organization_id: organizationId, card_id: cardId, token_hash: ctx.vault.hash('credential-hash', token),
      expires_at: expiresAt, used_at: null, created_at: now,
    });
    return { id, cardId, token, url: `${baseUrl}/card-pin/${token}`, expiresAt: expiresAt.toISOString() };
  });
}

/** What the hosted page shows before the PIN is chosen: the card's last four. */
export async function openPinPage(ctx: Ctx, token: string): Promise<{ lastFour: string }> {
  const session = await repo.findLiveSession(ctx.db, ctx.vault.hash('credential-hash', token), ctx.clock.now(), false);
  if (!session) throw invalidLink();
  const card = await viewCard(ctx.db, session.organization_id, session.card_id);
  requireUsable(card);
  return { lastFour: card.last_four };
}

/**
 * The hosted form's submission: the session is claimed (locked) first, so of two submissions of
 * one link exactly one sets the PIN; a refused PIN rolls back and leaves the link usable.
 */
export function setPinFromPage(ctx: Ctx, token: string, body: PinPageBody): Promise<PinStatus> {
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const session = await repo.findLiveSession(tx, ctx.vault.hash('credential-hash', token), now, true);
    if (!session) throw invalidLink();
    if (!/^\d{4}$/.test(body.pin)) throw unprocessable('validation_failed', 'The PIN is 4 digits.', 'pin');
    if (body.pinConfirmation !== undefined && body.pinConfirmation !== body.pin) {
      throw unprocessable('validation_failed', 'The two PINs differ.', 'pinConfirmation');
    }
    const status = await applyPin(ctx, tx, session.organization_id, session.card_id, body.pin, 'hosted_page', now);
    await repo.markSessionUsed(tx, session.organization_id, session.id, now);
    return status;
  });
}
