// An authorization step that loses its lock wait never answers 500 (PostgreSQL only: PGlite has
// one connection and never waits for a lock). A separate connection holds the card's ledger row
// FOR UPDATE, longer than the lock timeout, until the request has answered: the command runs
// twice, then answers 503 retry_later with Retry-After, and nothing changed. Released, the same
// request goes through.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import pg from 'pg';
import { LOCK_WAIT_ATTEMPTS, RETRY_AFTER_SECONDS } from '../../src/modules/authorizations/lock-wait.ts';
import { testDatabaseUrl, type Harness, type Response } from '../support/api.ts';
import { createProgram, issueNameOnlyCard } from '../support/fixtures.ts';
import { ONLINE, authorize } from '../authorizations/support.ts';
import { POSTGRES_ONLY, accountHolding, balanceOf, listAll, useConcurrencyHarness } from './support.ts';


/** Runs `request` while another connection holds the ledger row `ledgerAccountId` FOR UPDATE. */
async function whileLocked(ledgerAccountId: string, request: () => Promise<Response>) {
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT id FROM ledger_accounts WHERE id = $1 FOR UPDATE', [ledgerAccountId]);
    return await request();
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end();
  }
}

function assertRetryLater(res: Response) {
  assert.equal(res.status, 503, res.text);
  assert.equal(res.body.error.code, 'retry_later');
  assert.equal(res.body.data, null);
  assert.equal(res.headers.get('retry-after'), String(RETRY_AFTER_SECONDS));
}

describe('a lost lock wait on the authorization path', { skip: POSTGRES_ONLY }, () => {
  let api: Harness;
  const logLines: string[] = [];
  const stream = new Writable({ write(chunk, _encoding, done) { logLines.push(...String(chunk).split('\n').filter(Boolean)); done(); } });
  useConcurrencyHarness((started) => { api = started; }, { logger: { stream } });

  async function card(amount: number) {
    const account = await accountHolding(api, amount);
    const issued = await issueNameOnlyCard(api, account, await createProgram(api), amount);
    assert.equal(issued.status, 201, issued.text);
    const [row] = await api.app.ctx.db.query<{ ledger_account_id: string }>('SELECT ledger_account_id FROM cards WHERE id = $1', [issued.body.data.id]);
    return { account, card: issued.body.data as { id: string }, ledgerAccountId: row.ledger_account_id };
  }

  test(`an authorization waits ${LOCK_WAIT_ATTEMPTS} times, then answers 503 retry_later; nothing is held or stored`, async () => {
    const { account, card: c, ledgerAccountId } = await card(1_000);
    const events = (await api.request('GET', `/events?resourceId=${c.id}&limit=100`)).body.data.length;
    const busy = await whileLocked(ledgerAccountId, () => authorize(api, c.id, 400, ONLINE));
    assertRetryLater(busy);
    // Logged as a warning naming the lost lock wait (SQLSTATE 55P03), not as an unhandled error.
    const logged = logLines.map((line) => JSON.parse(line)).filter((l) => l.reqId === busy.body.requestId && l.level >= 40);
    assert.deepEqual(logged.map((l) => [l.level, l.msg, l.cause?.code]), [[40, 'answered 503 retry_later', '55P03']]);
    assert.deepEqual((await api.request('GET', `/cards/${c.id}`)).body.data.balance, { available: 1_000, pending: 0 });
    assert.deepEqual(await listAll(api, `/authorizations?cardId=${c.id}`), [], 'no authorization row, pending or declined');
    assert.equal((await api.request('GET', `/events?resourceId=${c.id}&limit=100`)).body.data.length, events);
    assert.equal((await balanceOf(api, account.id)).available, 0);

    const next = await authorize(api, c.id, 400, ONLINE);
    assert.equal(next.status, 201, next.text);
    assert.equal(next.body.data.approved, true);
    assert.deepEqual((await api.request('GET', `/cards/${c.id}`)).body.data.balance, { available: 600, pending: 400 });
  });

  test('a capture that loses its lock wait twice answers 503 and leaves the hold; released, it captures', async () => {
    const { card: c, ledgerAccountId } = await card(1_000);
    const auth = await authorize(api, c.id, 300, ONLINE);
    assert.equal(auth.body.data.approved, true, auth.text);
    const capture = () => api.request('POST', `/simulator/authorizations/${auth.body.data.id}/capture`, { body: {} });
    assertRetryLater(await whileLocked(ledgerAccountId, capture));
    const still = (await api.request('GET', `/authorizations/${auth.body.data.id}`)).body.data;
    assert.deepEqual([still.status, still.heldAmount, still.capturedAmount], ['pending', 300, 0]);
    assert.deepEqual(await listAll(api, `/transactions?cardId=${c.id}`), []);
    const done = await capture();
    assert.equal(done.status, 200, done.text);
    assert.equal(done.body.data.capturedAmount, 300);
    assert.deepEqual((await api.request('GET', `/cards/${c.id}`)).body.data.balance, { available: 700, pending: 0 });
  });
});
