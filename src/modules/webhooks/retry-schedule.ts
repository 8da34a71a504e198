// The retry schedule of webhook deliveries: bounded exponential backoff, no jitter, so that the
// schedule is the same in the logs, the docs and the tests.

/** Attempts per delivery, the first one included; after the last failure the delivery is `failed`. */
export const MAX_DELIVERY_ATTEMPTS = 8;
/** Wait after the first failed attempt. */
export const RETRY_BASE_DELAY_MS = 30_000;
/** Each further failure multiplies the wait by this factor… */
export const RETRY_BACKOFF_FACTOR = 4;
/** …up to this ceiling. */
export const RETRY_MAX_DELAY_MS = 4 * 60 * 60 * 1000;
/** One attempt's deadline: connect, send and answer. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/**
 * A claimed delivery belongs to its worker until this lease ends; a worker that died mid-batch
 * loses it then, and another worker retries. Well above DELIVERY_TIMEOUT_MS, so a live worker
 * always finishes first.
 */
export const DELIVERY_LEASE_MS = 60_000;

/** The wait after failed attempt `attempt` (1-based), or null when no attempt is left. */
export function retryDelayMs(attempt: number): number | null {
  if (attempt >= MAX_DELIVERY_ATTEMPTS) return null;
  return Math.min(RETRY_BASE_DELAY_MS * RETRY_BACKOFF_FACTOR ** (attempt - 1), RETRY_MAX_DELAY_MS);
}

const human = (ms: number) => (ms >= 3_600_000 ? `${+(ms / 3_600_000).toFixed(2)} h` : ms >= 60_000 ? `${+(ms / 60_000).toFixed(2)} min` : `${ms / 1000} s`);

/** "30 s, 2 min, 8 min, …": the waits between attempts, for documentation. */
export function describeSchedule(): string {
  const waits: string[] = [];
  for (let attempt = 1; attempt < MAX_DELIVERY_ATTEMPTS; attempt++) waits.push(human(retryDelayMs(attempt)!));
  return `${MAX_DELIVERY_ATTEMPTS} attempts at most: the first at once, then after waits of ${waits.join(', ')}; ` +
    `then the delivery is failed. Each attempt has ${DELIVERY_TIMEOUT_MS / 1000} s to answer with a 2xx.`;
}
