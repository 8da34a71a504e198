// The PostgreSQL adapter's prepared statements and early COMMIT (src/platform/db.ts), on a real
// server: a prepared `SELECT *` survives another process changing its table, and a transaction
// whose COMMIT went out early commits exactly when every statement before it succeeded.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { openDb, transactionRetries, type Db, type Queryable } from '../../src/platform/db.ts';
import { POSTGRES_ONLY } from './support.ts';

const url = process.env.PAYGEN_TEST_DATABASE_URL;

describe('the PostgreSQL adapter', { skip: POSTGRES_ONLY }, () => {
  const table = `probe_${randomBytes(4).toString('hex')}`;
  let db: Db;
  let other: pg.Client;

  before(async () => {
    // One connection: every statement below runs where the earlier ones were prepared.
    db = await openDb({ databaseUrl: url, dataDir: '', poolSize: 1 });
    other = new pg.Client({ connectionString: url });
    await other.connect();
    await other.query(`CREATE TABLE ${table} (id int PRIMARY KEY, amount bigint NOT NULL)`);
    await other.query(`INSERT INTO ${table} VALUES (1, 10)`);
  });
  after(async () => {
    await other.query(`DROP TABLE IF EXISTS ${table}`);
    await other.end();
    await db.close();
  });

  test('a prepared SELECT * answers with the new columns once another process altered its table', async () => {
    const select = `SELECT * FROM ${table} WHERE id = $1`;
    // Past five runs PostgreSQL may keep a generic plan: the statement is surely prepared.
    for (let i = 0; i < 7; i++) assert.deepEqual(await db.query(select, [1]), [{ id: 1, amount: 10 }]);
    await other.query(`ALTER TABLE ${table} ADD COLUMN note text NOT NULL DEFAULT 'a'`);
    assert.deepEqual(await db.query(select, [1]), [{ id: 1, amount: 10, note: 'a' }]);

    const inTransaction = `SELECT amount, * FROM ${table} WHERE id = $1`;
    for (let i = 0; i < 7; i++) await db.transaction((tx) => tx.query(inTransaction, [1]));
    await other.query(`ALTER TABLE ${table} ADD COLUMN label text NOT NULL DEFAULT 'b'`);
    // The refused statement aborts its transaction; the transaction runs again, unnamed.
    const rows = await db.transaction((tx) => tx.query(inTransaction, [1]));
    assert.deepEqual(rows, [{ id: 1, amount: 10, note: 'a', label: 'b' }]);
  });

  test('an early COMMIT commits what was sent before it', async () => {
    const result = await db.transaction(async (tx) => {
      const updated = tx.query<{ amount: number }>(`UPDATE ${table} SET amount = amount + $2 WHERE id = $1 RETURNING amount`, [1, 5]);
      tx.commitEarly();
      await assert.rejects(tx.query('SELECT 1 WHERE $1::int = 1', [1]), /a statement after commitEarly/);
      return (await updated)[0].amount;
    });
    assert.equal(result, 15);
    assert.deepEqual(await db.query(`SELECT amount FROM ${table} WHERE id = $1`, [1]), [{ amount: 15 }]);
  });

  test('a statement failing in SQL before an early COMMIT rolls the whole transaction back', async () => {
    const insert = (tx: Queryable) => tx.query(`INSERT INTO ${table} (id, amount) VALUES ($1, $2)`, [2, 1]);
    await assert.rejects(db.transaction(async (tx) => {
      const inserted = insert(tx);
      // The primary key refuses the second row: the statement fails, so COMMIT rolls back.
      const duplicate = tx.query(`INSERT INTO ${table} (id, amount) VALUES ($1, $2)`, [1, 1]);
      tx.commitEarly();
      await inserted;
      await duplicate;
    }), (error: { code?: string }) => error.code === '23505');
    assert.deepEqual(await db.query(`SELECT id FROM ${table} WHERE id = $1`, [2]), []);

    // A function that swallows the failure does not turn the rollback into a success.
    await assert.rejects(db.transaction(async (tx) => {
      const inserted = insert(tx);
      const duplicate = tx.query(`INSERT INTO ${table} (id, amount) VALUES ($1, $2)`, [1, 1]);
      tx.commitEarly();
      await inserted;
      await duplicate.catch(() => undefined);
      return 'done';
    }), /aborted and rolled back/);
    assert.deepEqual(await db.query(`SELECT id FROM ${table} WHERE id = $1`, [2]), []);
    // Without an early COMMIT the same: the COMMIT that rolled back is not a success.
    await assert.rejects(db.transaction(async (tx) => {
      await insert(tx);
      await tx.query(`INSERT INTO ${table} (id, amount) VALUES ($1, $2)`, [1, 1]).catch(() => undefined);
      return 'done';
    }), /aborted and rolled back/);
    assert.deepEqual(await db.query(`SELECT id FROM ${table} WHERE id = $1`, [2]), []);
    // The connection is fine afterwards (no transaction left open on it).
    assert.deepEqual(await db.transaction((tx) => tx.query(`SELECT amount FROM ${table} WHERE id = $1`, [1])), [{ amount: 15 }]);
  });
  test('a deadlock is retried, answered as success, and counted', async () => {
    const pair = await openDb({ databaseUrl: url, dataDir: '', poolSize: 2 });
    try {
      await other.query(`INSERT INTO ${table} VALUES (100, 0), (101, 0) ON CONFLICT DO NOTHING`);
      const before = transactionRetries().deadlock;
      // Each first attempt locks its row, waits until the other has locked its own, then asks for
      // the other's: PostgreSQL aborts one of them (40P01), which runs again and succeeds.
      let locked = 0;
      const bothLocked = async () => { for (let i = 0; i < 200 && locked < 2; i++) await new Promise((r) => setTimeout(r, 5)); };
      const crossing = (mine: number, theirs: number) => {
        let attempt = 0;
        return pair.transaction(async (tx) => {
          attempt++;
          await tx.query(`UPDATE ${table} SET amount = amount + 1 WHERE id = $1`, [mine]);
          if (attempt === 1) { locked++; await bothLocked(); }
          await tx.query(`UPDATE ${table} SET amount = amount + 1 WHERE id = $1`, [theirs]);
        });
      };
      await Promise.all([crossing(100, 101), crossing(101, 100)]);
      assert.equal(transactionRetries().deadlock, before + 1);
      const rows = await db.query<{ amount: number }>(`SELECT amount FROM ${table} WHERE id IN (100, 101) ORDER BY id`);
      assert.deepEqual(rows.map((r) => Number(r.amount)), [2, 2], 'both transactions committed once');
    } finally {
      await pair.close();
    }
  });
});
