// The interval arithmetic of budgets, without a database: UTC boundaries at month ends, in leap
// years, on the week start (Monday) and across the year boundary.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { periodAt, type BudgetInterval } from '../../src/modules/budgets/budget-periods.ts';

const created = new Date('2023-06-15T10:00:00.000Z');
const iso = (interval: BudgetInterval, now: string) => {
  const period = periodAt(interval, new Date(now), created);
  return period && [period.start.toISOString(), period.end ? period.end.toISOString() : null];
};

describe('budget periods', () => {
  test('daily runs from UTC midnight to the next UTC midnight, whatever the local day elsewhere', () => {
    assert.deepEqual(iso('daily', '2024-03-10T00:00:00.000Z'), ['2024-03-10T00:00:00.000Z', '2024-03-11T00:00:00.000Z']);
    assert.deepEqual(iso('daily', '2024-03-10T23:59:59.999Z'), ['2024-03-10T00:00:00.000Z', '2024-03-11T00:00:00.000Z']);
    assert.deepEqual(iso('daily', '2024-02-28T12:00:00.000Z'), ['2024-02-28T00:00:00.000Z', '2024-02-29T00:00:00.000Z'], 'leap day follows Feb 28 in 2024');
    assert.deepEqual(iso('daily', '2023-02-28T12:00:00.000Z'), ['2023-02-28T00:00:00.000Z', '2023-03-01T00:00:00.000Z']);
    assert.deepEqual(iso('daily', '2024-12-31T18:00:00.000Z'), ['2024-12-31T00:00:00.000Z', '2025-01-01T00:00:00.000Z']);
  });

  test('weekly starts on Monday 00:00 UTC, including when now is a Sunday or the Monday itself', () => {
    // 2024-03-11 is a Monday.
    assert.deepEqual(iso('weekly', '2024-03-11T00:00:00.000Z'), ['2024-03-11T00:00:00.000Z', '2024-03-18T00:00:00.000Z']);
    assert.deepEqual(iso('weekly', '2024-03-13T09:30:00.000Z'), ['2024-03-11T00:00:00.000Z', '2024-03-18T00:00:00.000Z']);
    assert.deepEqual(iso('weekly', '2024-03-17T23:59:59.999Z'), ['2024-03-11T00:00:00.000Z', '2024-03-18T00:00:00.000Z'], 'Sunday closes the week');
    assert.deepEqual(iso('weekly', '2024-03-18T00:00:00.000Z'), ['2024-03-18T00:00:00.000Z', '2024-03-25T00:00:00.000Z']);
    // A week across the year boundary: Wednesday 2025-01-01 belongs to the week of Monday 2024-12-30.
    assert.deepEqual(iso('weekly', '2025-01-01T08:00:00.000Z'), ['2024-12-30T00:00:00.000Z', '2025-01-06T00:00:00.000Z']);
    // A week across a leap day.
    assert.deepEqual(iso('weekly', '2024-03-01T08:00:00.000Z'), ['2024-02-26T00:00:00.000Z', '2024-03-04T00:00:00.000Z']);
  });

  test('monthly runs from the 1st to the 1st of the next month, through short months, leap Februaries and December', () => {
    assert.deepEqual(iso('monthly', '2024-01-31T23:59:59.999Z'), ['2024-01-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z']);
    assert.deepEqual(iso('monthly', '2024-02-29T12:00:00.000Z'), ['2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z']);
    assert.deepEqual(iso('monthly', '2023-02-28T23:59:59.999Z'), ['2023-02-01T00:00:00.000Z', '2023-03-01T00:00:00.000Z']);
    assert.deepEqual(iso('monthly', '2024-04-30T12:00:00.000Z'), ['2024-04-01T00:00:00.000Z', '2024-05-01T00:00:00.000Z']);
    assert.deepEqual(iso('monthly', '2024-12-31T23:59:59.999Z'), ['2024-12-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z']);
    assert.deepEqual(iso('monthly', '2025-01-01T00:00:00.000Z'), ['2025-01-01T00:00:00.000Z', '2025-02-01T00:00:00.000Z']);
  });

  test('yearly runs from January 1st to January 1st, leap years included', () => {
    assert.deepEqual(iso('yearly', '2024-02-29T12:00:00.000Z'), ['2024-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z']);
    assert.deepEqual(iso('yearly', '2024-12-31T23:59:59.999Z'), ['2024-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z']);
    assert.deepEqual(iso('yearly', '2025-01-01T00:00:00.000Z'), ['2025-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z']);
  });

  test('all_time runs from the budget\'s creation and never ends; per_transaction has no period', () => {
    assert.deepEqual(iso('all_time', '2030-01-01T00:00:00.000Z'), ['2023-06-15T10:00:00.000Z', null]);
    assert.equal(iso('per_transaction', '2030-01-01T00:00:00.000Z'), null);
  });

  test('every period contains now, and the next period starts where this one ends', () => {
    // A sweep over three years, every 7 hours 13 minutes, hits every weekday, month end and year end.
    const step = (7 * 60 + 13) * 60 * 1000;
    for (let t = Date.UTC(2023, 0, 1); t < Date.UTC(2026, 0, 1); t += step) {
      const now = new Date(t);
      for (const interval of ['daily', 'weekly', 'monthly', 'yearly'] as const) {
        const period = periodAt(interval, now, created)!;
        assert.ok(period.start.getTime() <= t && t < period.end!.getTime(), `${interval} at ${now.toISOString()}`);
        assert.equal(periodAt(interval, period.end!, created)!.start.getTime(), period.end!.getTime(), `${interval} after ${now.toISOString()}`);
        assert.equal(period.start.getUTCHours() + period.start.getUTCMinutes() + period.start.getUTCSeconds() + period.start.getUTCMilliseconds(), 0);
      }
      assert.equal(periodAt('weekly', now, created)!.start.getUTCDay(), 1, 'weeks start on Monday');
      assert.equal(periodAt('monthly', now, created)!.start.getUTCDate(), 1);
    }
  });
});
