// Wallet tokenizations. The simulator enrols a card in a wallet (the network's side); the tokens
// then follow their card: the card status machine calls followCardStatus in its own transaction,
// so a card and its tokens never disagree. Every token change records tokenization.created or
// tokenization.updated in the same transaction.
import { randomBytes } from 'node:crypto';
import type { Ctx } from '../../platform/context.ts';
import type { Queryable } from '../../platform/db.ts';
import { conflict, notFound } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import type { ListQuery } from '../../platform/pagination.ts';
import { recordEvent } from '../events/events.service.ts';
import * as repo from './tokenizations.repo.ts';
import type { CreateTokenizationBody, Tokenization } from './tokenizations.schemas.ts';

/** Wallet enrolments a card may have, all statuses together (phones, watches, tablets). */
export const MAX_TOKENIZATIONS_PER_CARD = 20;
/** Cards that cannot be put in a wallet: not issued yet, refused, or ended. */
const NOT_TOKENIZABLE = new Set(['pending', 'rejected', 'cancelled', 'expired']);
/** Card statuses that suspend the card's tokens, and those that end them. */
const SUSPENDING = new Set(['locked', 'suspended']);
const TERMINAL = new Set(['cancelled', 'expired', 'rejected']);
/** Card statuses in which suspended tokens come back (a card unfrozen or reinstated). */
const LIVE = new Set(['issued', 'digital', 'active']);

/** `wtok_…` ids, time-ordered like every id (the prefix is not in ids.ts's list yet). */
const newTokenizationId = (now: Date) => newId('wtok', now.getTime());

export function present(row: repo.TokenizationRow): Tokenization {
  return {
    id: row.id, cardId: row.card_id, dpanRef: row.dpan_ref, walletId: row.wallet_id, walletType: row.wallet_type,
    status: row.status, createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString(),
  };
}

/** The simulator's wallet enrolment (POST /simulator/cards/:id/tokenizations). */
export function createTokenization(ctx: Ctx, organizationId: string, cardId: string, body: CreateTokenizationBody) {
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const cardStatus = await repo.lockCardStatus(tx, organizationId, cardId);
    if (!cardStatus) throw notFound('Card');
    if (NOT_TOKENIZABLE.has(cardStatus)) throw conflict('card_not_usable', `A ${cardStatus} card cannot be added to a wallet.`);
    if (await repo.countForCard(tx, organizationId, cardId) >= MAX_TOKENIZATIONS_PER_CARD) {
      throw conflict('too_many_tokenizations', `A card has at most ${MAX_TOKENIZATIONS_PER_CARD} wallet tokenizations.`);
    }
    const walletStatus = body.status ?? 'completed';
    // A token made while its card is locked or suspended starts suspended and comes back with the card.
    const suspended = SUSPENDING.has(cardStatus);
    const row: repo.TokenizationRow = {
      id: newTokenizationId(now), organization_id: organizationId, card_id: cardId, wallet_type: body.walletType,
      dpan_ref: `DPAN${randomBytes(10).toString('hex').toUpperCase()}`,
      wallet_id: body.walletType === 'google_pay' ? randomBytes(12).toString('hex').toUpperCase() : null,
      status: suspended ? 'suspended' : walletStatus, status_before_card_suspension: suspended ? walletStatus : null,
      created_at: now, updated_at: now,
    };
    await repo.insertTokenization(tx, row);
    const tokenization = present(row);
    await recordEvent(tx, { organizationId, type: 'tokenization.created', resourceId: row.id, data: tokenization, at: now });
    return tokenization;
  });
}

export async function listTokenizations(ctx: Ctx, organizationId: string, cardId: string, query: Parameters<typeof repo.listForCard>[3]) {
  if (!await repo.cardExists(ctx.db, organizationId, cardId)) throw notFound('Card');
  const page = await repo.listForCard(ctx.db, organizationId, cardId, query);
  return { data: page.rows.map(present), meta: page.meta };
}

export type TokenizationListQuery = ListQuery & { status?: 'initiated' | 'completed' | 'suspended' | 'terminated'; walletType?: 'apple_pay' | 'google_pay' | 'samsung_pay' };

/**
 * Makes the card's tokens follow its new status, inside the caller's transaction (the card row is
 * already locked by the status change): locked or suspended → live tokens suspended; issued,
 * digital or active → the tokens the card suspended come back; cancelled, expired or rejected →
 * every token terminated (terminal). Returns the changed tokens; each gets tokenization.updated.
 */
/**
 * Moves a card's live wallet tokens to its replacement (renewal, damaged card), in the caller's
 * transaction, with one tokenization.updated event each (previousAttributes name the old card).
 */
export async function moveToCard(tx: Queryable, organizationId: string, fromCardId: string, toCardId: string, at: Date) {
  for (const row of await repo.moveToCard(tx, organizationId, fromCardId, toCardId, at)) {
    const previous: Record<string, unknown> = { cardId: fromCardId };
    if (row.previous_status !== row.status) previous.status = row.previous_status;
    await recordEvent(tx, { organizationId, type: 'tokenization.updated', resourceId: row.id, data: present(row), previousAttributes: previous, at });
  }
}

export async function followCardStatus(tx: Queryable, organizationId: string, cardId: string, newCardStatus: string, at: Date): Promise<Tokenization[]> {
  let changed: repo.ChangedRow[] = [];
  if (SUSPENDING.has(newCardStatus)) changed = await repo.suspendForCard(tx, organizationId, cardId, at);
  else if (TERMINAL.has(newCardStatus)) changed = await repo.terminateForCard(tx, organizationId, cardId, at);
  else if (LIVE.has(newCardStatus)) changed = await repo.resumeForCard(tx, organizationId, cardId, at);
  const tokenizations: Tokenization[] = [];
  for (const row of changed) {
    const tokenization = present(row);
    await recordEvent(tx, {
      organizationId, type: 'tokenization.updated', resourceId: row.id, data: tokenization,
      previousAttributes: { status: row.previous_status }, at,
    });
    tokenizations.push(tokenization);
  }
  return tokenizations;
}

/** For the card response's `tokenizations` field: card id → its tokens, oldest first. */
export async function listForCards(db: Queryable, organizationId: string, cardIds: string[]): Promise<Map<string, Tokenization[]>> {
  const byCard = new Map<string, Tokenization[]>(cardIds.map((id) => [id, []]));
  if (cardIds.length === 0) return byCard;
  for (const row of await repo.listForCards(db, organizationId, cardIds)) byCard.get(row.card_id)?.push(present(row));
  return byCard;
}
