// The authorization path waits a bounded time for a row lock (DESIGN §3, step 4): a hot card or
// funding account must not stall the network. A command that loses its lock wait runs once more;
// if it loses again, it answers 503 retry_later with Retry-After, and nothing was changed (the
// transaction rolled back). A 503 is not stored under an Idempotency-Key or a network id, so the
// network can send the same message again.
import type { Ctx } from '../../platform/context.ts';
import type { Transaction } from '../../platform/db.ts';
import { ApiError } from '../../platform/errors.ts';

/** A hot card must not stall the authorization path: wait this long for a row lock, then give up. */
export const AUTHORIZATION_LOCK_TIMEOUT_MS = 2_000;

/** Runs of one command that may lose their lock wait before the caller is told to come back. */
export const LOCK_WAIT_ATTEMPTS = 2;

/** What Retry-After tells the caller after a 503 retry_later. */
export const RETRY_AFTER_SECONDS = 1;

/** SQLSTATE lock_not_available: a lock wait passed lock_timeout. */
const LOCK_NOT_AVAILABLE = '55P03';

export function isLockTimeout(error: unknown): boolean {
  return !!error && typeof error === 'object' && (error as { code?: string }).code === LOCK_NOT_AVAILABLE;
}

/** `cause`: the lost lock wait, logged with the 503 (errors.ts). */
function retryLater(cause: unknown) {
  const error = new ApiError(503, 'retry_later', 'The card or its funding account is busy; nothing was changed. Retry shortly.',
    [], { 'retry-after': String(RETRY_AFTER_SECONDS) });
  return Object.assign(error, { cause });
}

/** One transaction of the authorization path, with the lock timeout and its one retry. */
export async function withLockWait<T>(ctx: Ctx, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.db.transaction(fn, { lockTimeoutMs: AUTHORIZATION_LOCK_TIMEOUT_MS });
    } catch (error) {
      if (!isLockTimeout(error)) throw error;
      if (attempt >= LOCK_WAIT_ATTEMPTS) throw retryLater(error);
    }
  }
}
