// The retry rule of the authorization path's lock waits, counted exactly. PGlite never waits for
// a lock, so the database is a stand-in whose transactions fail as PostgreSQL's do on a lock
// timeout (SQLSTATE 55P03); test/postgres/lock-wait.pg-test.ts shows the same through the API on
// a real row lock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Ctx } from '../../src/platform/context.ts';
import type { TransactionOptions } from '../../src/platform/db.ts';
import { ApiError } from '../../src/platform/errors.ts';
import { AUTHORIZATION_LOCK_TIMEOUT_MS, LOCK_WAIT_ATTEMPTS, RETRY_AFTER_SECONDS, withLockWait } from '../../src/modules/authorizations/lock-wait.ts';

/** A context whose transactions lose their lock wait `failures` times, then run. */
function flakyLocks(failures: number, otherError?: Error) {
  const calls: TransactionOptions[] = [];
  const db = {
    async transaction<T>(fn: (tx: unknown) => Promise<T>, options: TransactionOptions = {}) {
      calls.push(options);
      if (otherError) throw otherError;
      if (calls.length <= failures) throw Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' });
      return fn({});
    },
  };
  return { ctx: { db } as unknown as Ctx, calls };
}

test('one lost lock wait runs the transaction once more, with the lock timeout each time', async () => {
  const { ctx, calls } = flakyLocks(1);
  assert.equal(await withLockWait(ctx, async () => 'done'), 'done');
  assert.deepEqual(calls, [{ lockTimeoutMs: AUTHORIZATION_LOCK_TIMEOUT_MS }, { lockTimeoutMs: AUTHORIZATION_LOCK_TIMEOUT_MS }]);
});

test(`${LOCK_WAIT_ATTEMPTS} lost lock waits answer 503 retry_later with Retry-After, and no more runs`, async () => {
  const { ctx, calls } = flakyLocks(Infinity);
  await assert.rejects(withLockWait(ctx, async () => 'never'), (error: ApiError) => {
    assert.ok(error instanceof ApiError);
    assert.deepEqual([error.statusCode, error.code, error.headers], [503, 'retry_later', { 'retry-after': String(RETRY_AFTER_SECONDS) }]);
    return true;
  });
  assert.equal(calls.length, LOCK_WAIT_ATTEMPTS);
});

test('any other error passes through at once', async () => {
  const other = new ApiError(422, 'insufficient_funds', 'no');
  const { ctx, calls } = flakyLocks(0, other);
  await assert.rejects(withLockWait(ctx, async () => 'never'), (error) => error === other);
  assert.equal(calls.length, 1);
});
