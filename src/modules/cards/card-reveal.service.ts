// Card reveal: POST /cards/:id/reveal-sessions makes a single-use token; the hosted page or its
// JSON twin claims it once and shows PAN, CVV and expiry. The PAN is opened from the vault and
// the CVV derived (never stored) at that moment; `card.revealed` records who, when and how,
// never the data.
import type { Ctx, Principal } from '../../platform/context.ts';
import { randomToken } from '../../platform/crypto.ts';
import { ApiError, conflict, unprocessable } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { recordEvent } from '../events/events.service.ts';
import { viewCard } from './card-lifecycle.service.ts';
import { deriveCvv } from './card-numbers.ts';
import * as repo from './card-reveal.repo.ts';
import {
  DEFAULT_REVEAL_TTL_SECONDS, type CreateRevealSessionBody, type RevealedCard, type RevealSession,
} from './card-reveal.schemas.ts';
import type { CardStatus } from './cards.schemas.ts';

/** Random bytes of a reveal token (32 base64url characters). */
export const REVEAL_TOKEN_BYTES = 24;

/**
 * The statuses in which the holder has a card to look at: issued and in use, or frozen by the
 * client. Not pending (not issued yet), suspended (the issuer stopped it) nor ended.
 */
export const REVEALABLE: ReadonlySet<CardStatus> = new Set(['issued', 'digital', 'active', 'locked']);

/** Local development pages are served over plain http; every other origin must be https. */
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export type RevealChannel = 'page' | 'json';

export interface RevealRequest {
  via: RevealChannel;
  ip: string;
  userAgent: string | null;
}

function requireRevealable(status: CardStatus) {
  if (!REVEALABLE.has(status)) {
    const allowed = [...REVEALABLE].join(', ');
    throw conflict('card_not_usable', `The card is ${status}: its details can be revealed only when it is ${allowed}.`);
  }
}

/** The origin as the browser sends it (scheme://host[:port]), or a 422 naming what is wrong. */
export function normalizeOrigin(value: string): string {
  const invalid = (why: string) => unprocessable('invalid_origin', `allowedOrigin ${why}.`, 'allowedOrigin');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('is not a URL');
  }
  if (url.username || url.password) throw invalid('must not hold credentials');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || value.endsWith('/')) {
    throw invalid('is an origin only: no path, query or fragment');
  }
  const local = url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !local) throw invalid('must be https (http only for localhost)');
  return url.origin;
}

export function createRevealSession(ctx: Ctx, principal: Principal, cardId: string,
  body: CreateRevealSessionBody, baseUrl: string): Promise<RevealSession> {
  const allowedOrigin = body.allowedOrigin === undefined ? null : normalizeOrigin(body.allowedOrigin);
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const card = await viewCard(tx, principal.organizationId, cardId);
    requireRevealable(card.status);
    const token = randomToken(REVEAL_TOKEN_BYTES);
    const expiresAt = new Date(now.getTime() + (body.ttlSeconds ?? DEFAULT_REVEAL_TTL_SECONDS) * 1000);
    const id = newId('revses', now.getTime());
    await repo.insertSession(tx, {
      id, organization_id: principal.organizationId, card_id: cardId,
      token_hash: ctx.vault.hash('credential-hash', token), allowed_origin: allowedOrigin,
      created_by_type: principal.credentialType, created_by_id: principal.credentialId,
      expires_at: expiresAt, used_at: null, created_at: now,
    });
    const url = `${baseUrl}/card-reveal/${token}`;
    return { id, cardId, token, url, dataUrl: `${url}/data`, allowedOrigin, expiresAt: expiresAt.toISOString() };
  });
}

/** Why a token did not claim: used and expired are 410, unknown is 404. */
function refusal(session: repo.RevealSessionRow | undefined, now: Date): ApiError {
  if (!session) return new ApiError(404, 'not_found', 'This reveal link is unknown.');
  if (session.used_at) {
    return new ApiError(410, 'reveal_token_used', 'This reveal link was already used: ask for a new one.');
  }
  if (session.expires_at <= now) {
    return new ApiError(410, 'reveal_token_expired', 'This reveal link has expired: ask for a new one.');
  }
  return new ApiError(404, 'not_found', 'This reveal link is unknown.');
}

/** The session behind a token without claiming it (for the CORS preflight); undefined if unknown. */
export function peekSession(ctx: Ctx, token: string) {
  return repo.findSession(ctx.db, ctx.vault.hash('credential-hash', token));
}

/**
 * Claims the token and opens the card, in one transaction with the `card.revealed` event: a
 * refused reveal (card no longer revealable) rolls the claim back.
 */
export function reveal(ctx: Ctx, token: string, request: RevealRequest):
  Promise<{ card: RevealedCard; session: repo.RevealSessionRow }> {
  const tokenHash = ctx.vault.hash('credential-hash', token);
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const session = await repo.claimSession(tx, tokenHash, now);
    if (!session) throw refusal(await repo.findSession(tx, tokenHash), now);
    const card = await viewCard(tx, session.organization_id, session.card_id);
    requireRevealable(card.status);
    const pan = ctx.vault.openRecord({ ciphertext: card.pan_ciphertext, wrappedKey: card.pan_data_key, keyId: card.pan_key_id });
    const expiry = { month: card.expiry_month, year: card.expiry_year };
    await recordEvent(tx, {
      organizationId: session.organization_id, type: 'card.revealed', resourceId: card.id, at: now,
      data: {
        cardId: card.id, sessionId: session.id, revealedAt: now.toISOString(), via: request.via,
        requestedBy: { type: session.created_by_type, id: session.created_by_id },
        ip: request.ip, userAgent: request.userAgent,
      },
    });
    const cvv = deriveCvv(ctx.vault, pan, expiry);
    const revealed = { cardId: card.id, pan, cvv, expiryMonth: expiry.month, expiryYear: expiry.year };
    return { card: revealed, session };
  });
}
