// The retention job: deletes rows whose only purpose has passed, so that tables that grow with
// every request stay bounded. Idempotency keys are kept 24 h (IDEMPOTENCY_TTL_MS) — after that a
// repeat of the key is a new request anyway — and signature nonces until their signature's
// `created` leaves the clock-skew window. Money, events and audit rows are never deleted here.
// Batches are claimed with FOR UPDATE SKIP LOCKED (no ctid, DESIGN section 6), so several workers
// can run the job side by side and a request that is re-claiming an expired key is passed over.
import type { Ctx } from './context.ts';
import type { Job } from './jobs.ts';

/** Rows deleted per statement: short transactions, few locks held at once. */
export const RETENTION_BATCH_SIZE = 500;
export const RETENTION_IDLE_DELAY_MS = 60_000;

/** Deletes one batch of expired idempotency keys and one of expired nonces; returns the count. */
export async function deleteExpired(ctx: Ctx): Promise<number> {
  const now = ctx.clock.now();
  const keys = await ctx.db.query(
    `DELETE FROM idempotency_keys WHERE (organization_id, key) IN (
       SELECT organization_id, key FROM idempotency_keys WHERE expires_at <= $1
       LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING 1`,
    [now, RETENTION_BATCH_SIZE],
  );
  const nonces = await ctx.db.query(
    `DELETE FROM signature_nonces WHERE (organization_id, signing_key_id, nonce) IN (
       SELECT organization_id, signing_key_id, nonce FROM signature_nonces WHERE expires_at < $1
       LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING 1`,
    [now, RETENTION_BATCH_SIZE],
  );
  return keys.length + nonces.length;
}

export const retentionJob: Job = {
  name: 'retention',
  idleDelayMs: RETENTION_IDLE_DELAY_MS,
  run: deleteExpired,
};
