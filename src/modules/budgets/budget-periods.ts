// The interval arithmetic of budgets, kept pure so that month ends, leap years and week starts
// are tested without a database. Every boundary is in UTC: a budget means the same period for a
// client in Tokyo and one in San Francisco.

export const BUDGET_INTERVALS = ['per_transaction', 'daily', 'weekly', 'monthly', 'yearly', 'all_time'] as const;
export type BudgetInterval = (typeof BUDGET_INTERVALS)[number];

/** A period is [start, end): `end` is exclusive, and null for all_time (it never ends). */
export interface BudgetPeriod {
  start: Date;
  end: Date | null;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function utcMidnight(at: Date) {
  return Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
}

/**
 * The period of `interval` that contains `now`: daily from UTC midnight, weekly from Monday
 * 00:00 UTC, monthly from the 1st 00:00 UTC, yearly from January 1st 00:00 UTC, all_time from the
 * budget's creation. A per_transaction budget caps each transaction and has no period (null).
 */
export function periodAt(interval: BudgetInterval, now: Date, createdAt: Date): BudgetPeriod | null {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth();
  switch (interval) {
    case 'per_transaction':
      return null;
    case 'all_time':
      return { start: new Date(createdAt), end: null };
    case 'daily': {
      const start = utcMidnight(now);
      return { start: new Date(start), end: new Date(start + DAY_MS) };
    }
    case 'weekly': {
      // getUTCDay: Sunday = 0 … Saturday = 6; days since Monday: Monday = 0 … Sunday = 6.
      const start = utcMidnight(now) - ((now.getUTCDay() + 6) % 7) * DAY_MS;
      return { start: new Date(start), end: new Date(start + 7 * DAY_MS) };
    }
    case 'monthly':
      // Date.UTC carries month 12 into January of the next year.
      return { start: new Date(Date.UTC(year, month, 1)), end: new Date(Date.UTC(year, month + 1, 1)) };
    case 'yearly':
      return { start: new Date(Date.UTC(year, 0, 1)), end: new Date(Date.UTC(year + 1, 0, 1)) };
    default: {
      const unknown: never = interval;
      throw new Error(`unknown budget interval ${String(unknown)}`);
    }
  }
}
