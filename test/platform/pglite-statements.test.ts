// The PGlite adapter keeps each statement prepared under a name and runs it in one call into the
// WASM module: values, results, errors and transactions must read exactly as through PGlite's query.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openDb, type Db } from '../../src/platform/db.ts';

let db: Db;
before(async () => {
  db = await openDb({ databaseUrl: 'memory://', dataDir: '', poolSize: 1 });
  await db.exec(`CREATE TABLE t (id integer PRIMARY KEY, amount bigint NOT NULL, at timestamptz, doc jsonb, tags text[],
    CONSTRAINT t_amount_positive CHECK (amount > 0))`);
});
after(() => db.close());

test('values are serialized by the parameter type and results parsed by the column type, on every run', async () => {
  const at = new Date('2026-12-02T06:00:00.123Z');
  for (let id = 1; id <= 8; id++) { // past the 5 custom plans after which Postgres may switch to a generic one
    await db.query('INSERT INTO t (id, amount, at, doc, tags) VALUES ($1, $2, $3, $4, $5)',
      [id, 2 ** 40 + id, at, { id, nested: ['a'] }, ['x', `y${id}`]]);
  }
  const rows = await db.query<{ id: number; amount: number; at: Date; doc: unknown; tags: string[]; nothing: null }>(
    'SELECT id, amount, at, doc, tags, NULL AS nothing FROM t WHERE id = ANY($1) ORDER BY id', [[2, 7]]);
  assert.deepEqual(rows, [
    { id: 2, amount: 2 ** 40 + 2, at, doc: { id: 2, nested: ['a'] }, tags: ['x', 'y2'], nothing: null },
    { id: 7, amount: 2 ** 40 + 7, at, doc: { id: 7, nested: ['a'] }, tags: ['x', 'y7'], nothing: null },
  ]);
  assert.deepEqual(await db.query('SELECT count(*)::int AS n FROM t WHERE doc @> $1', [{ nested: ['a'] }]), [{ n: 8 }]);
});

test('errors keep their SQLSTATE and constraint, and a failed statement leaves the connection usable', async () => {
  await assert.rejects(db.query('INSERT INTO t (id, amount) VALUES ($1, $2)', [100, 0]),
    (e: { code?: string; constraint?: string }) => e.code === '23514' && e.constraint === 't_amount_positive');
  await assert.rejects(db.query('SELEC 1'), (e: { code?: string }) => e.code === '42601');
  assert.deepEqual(await db.query('SELECT $1::int + 1 AS n', [41]), [{ n: 42 }]);
});

test('a transaction commits its statements, and rolls all of them back when its function throws', async () => {
  await db.transaction(async (tx) => {
    await tx.query('INSERT INTO t (id, amount) VALUES ($1, $2)', [200, 1]);
    await tx.query('UPDATE t SET amount = amount + $2 WHERE id = $1', [200, 1]);
  });
  await assert.rejects(db.transaction(async (tx) => {
    await tx.query('UPDATE t SET amount = amount + $2 WHERE id = $1', [200, 1]);
    await tx.query('INSERT INTO t (id, amount) VALUES ($1, $2)', [200, 1]); // duplicate key
  }), (e: { code?: string }) => e.code === '23505');
  assert.deepEqual(await db.query('SELECT amount FROM t WHERE id = $1', [200]), [{ amount: 2 }]);
});

test('a transaction whose function swallowed a failed statement is rolled back, not reported committed', async () => {
  await assert.rejects(db.transaction(async (tx) => {
    await tx.query('INSERT INTO t (id, amount) VALUES ($1, $2)', [300, 1]);
    await tx.query('INSERT INTO t (id, amount) VALUES ($1, $2)', [300, 1]).catch(() => undefined);
  }), /aborted/);
  assert.deepEqual(await db.query('SELECT id FROM t WHERE id = $1', [300]), []);
});

test('a kept statement whose table changed shape is prepared again', async () => {
  await db.exec('CREATE TABLE shape (a integer)');
  await db.query('INSERT INTO shape VALUES (1)');
  assert.deepEqual(await db.query('SELECT * FROM shape'), [{ a: 1 }]);
  await db.exec('ALTER TABLE shape ADD COLUMN b text DEFAULT \'x\'');
  assert.deepEqual(await db.query('SELECT * FROM shape'), [{ a: 1, b: 'x' }]);

  // Inside a transaction the changed shape aborts it; the transaction runs again (as on
  // PostgreSQL: db.ts isRetryable) with the statement parsed anew, and nothing else ran twice.
  await db.exec('ALTER TABLE shape ADD COLUMN c integer DEFAULT 3');
  let runs = 0;
  const rows = await db.transaction((tx) => {
    runs++;
    return tx.query('SELECT * FROM shape');
  });
  assert.deepEqual(rows, [{ a: 1, b: 'x', c: 3 }]);
  assert.equal(runs, 2);
});

test('statements from outside a transaction wait for a running one instead of landing inside it', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const running = db.transaction(async (tx) => {
    await tx.query('INSERT INTO t (id, amount) VALUES ($1, $2)', [400, 1]);
    await gate;
    throw new Error('rolled back on purpose');
  });
  const outside = db.query<{ n: number }>('SELECT count(*)::int AS n FROM t WHERE id = $1', [400]);
  release();
  await assert.rejects(running, /on purpose/);
  assert.deepEqual(await outside, [{ n: 0 }], 'the outside read ran after the rollback');
});
