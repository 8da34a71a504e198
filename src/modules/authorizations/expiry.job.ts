// The expiry sweeper: releases the holds of authorizations past their expiresAt (the program's
// holdTtlHours). A batch is claimed with FOR UPDATE SKIP LOCKED, so workers never share one and
// a capture holding an authorization's lock is passed over; a capture that waits behind the
// sweeper finds the authorization expired and is forced instead (never a double release: the
// ledger's unique index on pending_id backs the row lock).
import type { Ctx } from '../../platform/context.ts';
import type { Job } from '../../platform/jobs.ts';
import * as repo from './authorizations.repo.ts';
import { expireClaimed } from './clearing.service.ts';

/** Authorizations expired per transaction: short transactions, few card locks held at once. */
export const EXPIRY_BATCH_SIZE = 20;
export const EXPIRY_IDLE_DELAY_MS = 5_000;

/** Expires one batch of holds; `organizationId` limits it to one organization (a dedicated worker, or a test). */
export function sweepExpiredHolds(ctx: Ctx, organizationId: string | null = null): Promise<number> {
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const claimed = await repo.claimExpired(tx, now, EXPIRY_BATCH_SIZE, organizationId);
    // Card locks are taken in card id order, so two sweepers never wait on each other in a cycle.
    claimed.sort((a, b) => (a.card_id < b.card_id ? -1 : a.card_id > b.card_id ? 1 : 0));
    for (const auth of claimed) await expireClaimed(ctx, tx, auth, now);
    return claimed.length;
  });
}

export const expiryJob: Job = {
  name: 'authorization-expiry', idleDelayMs: EXPIRY_IDLE_DELAY_MS, run: (ctx) => sweepExpiredHolds(ctx),
  depth: (ctx) => repo.countExpired(ctx.db, ctx.clock.now()),
};
