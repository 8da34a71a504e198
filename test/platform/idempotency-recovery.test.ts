// What a retry finds after the process died mid-request (src/platform/idempotency.ts, "Crashes").
// The crash is reproduced by putting the key row in the state the dead request left it (the claim
// committed, then nothing; or the effect committed, then nothing), with the harness clock moved
// past the lease. A retry never waits 24 h, and the command never runs twice.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/platform/clock.ts';
import { IDEMPOTENCY_LEASE_MS, LOST_RESPONSE_MESSAGE } from '../../src/platform/idempotency.ts';
import { startHarness, type Harness, type Response } from '../support/api.ts';
import { balanceOf, createAccount } from '../support/fixtures.ts';

const clock = new ManualClock();
let api: Harness;
before(async () => { api = await startHarness({ clock }); });
after(async () => { await api.checkLedger(); await api.close(); });

const newKey = () => `crash-${randomBytes(8).toString('hex')}`;
const PAST_THE_LEASE_MS = IDEMPOTENCY_LEASE_MS + 1_000;

function assertInUse(res: Response) {
  assert.equal(res.status, 409, res.text);
  assert.equal(res.body.error.code, 'idempotency_key_in_use');
}

async function keyRow(key: string) {
  const [row] = await api.app.ctx.db.query<{ state: string; result_sealed: string | null }>(
    'SELECT state, result_sealed FROM idempotency_keys WHERE organization_id = $1 AND key = $2', [api.organizationId, key]);
  return row;
}

/** The row as a request leaves it when its process dies: `state`, no answer, the lease still on. */
async function dieMidRequest(key: string, state: 'running' | 'committed') {
  const erase = state === 'running' ? ', result_sealed = NULL' : '';
  const rows = await api.app.ctx.db.query(
    `UPDATE idempotency_keys SET state = $3, status_code = NULL, response_body = NULL, locked_until = $4${erase}
     WHERE organization_id = $1 AND key = $2 RETURNING key`,
    [api.organizationId, key, state, new Date(clock.now().getTime() + IDEMPOTENCY_LEASE_MS)],
  );
  assert.equal(rows.length, 1);
}

async function depositCount(accountId: string) {
  const res = await api.request('GET', `/events?resourceId=${accountId}&type=account.deposit_received&limit=100`);
  assert.equal(res.status, 200, res.text);
  return res.body.data.length as number;
}

describe('the process died before the effect committed', () => {
  test('the key answers 409 while the lease runs, then a retry takes it over and executes once', async () => {
    const from = await createAccount(api, { name: 'From' });
    const to = await createAccount(api, { name: 'To' });
    const amount = from.balance.available + 1;
    const key = newKey();
    const send = () => api.request('POST', '/transfers', { body: { fromAccountId: from.id, toAccountId: to.id, amount, currency: 'USD' }, headers: { 'idempotency-key': key } });
    // The first attempt runs and is refused; its refusal is what the crash erases below.
    assert.equal((await send()).status, 422);
    assert.equal((await keyRow(key)).result_sealed, null, 'a business error rolls the marker back with the effect');
    await api.request('POST', `/simulator/accounts/${from.id}/deposits`, { body: { amount: 1 } });
    await dieMidRequest(key, 'running');

    assertInUse(await send());
    clock.advance(PAST_THE_LEASE_MS);
    const retried = await send();
    assert.equal(retried.status, 201, retried.text);
    assert.equal(retried.headers.get('idempotent-replayed'), null, 'the retry executed');
    const again = await send();
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.text, retried.text);
    assert.equal((await balanceOf(api, to.id)).available, to.balance.available + amount, 'moved once');
    assert.equal((await balanceOf(api, from.id)).available, 0);
  });

  test('two retries after the lease: one takes the key over and executes, the other waits', async () => {
    const account = await createAccount(api);
    const key = newKey();
    const send = () => api.request('POST', `/simulator/accounts/${account.id}/deposits`, { body: { amount: 700 }, headers: { 'idempotency-key': key } });
    assert.equal((await send()).status, 201);
    // A claim whose process died at once: the same request (same fingerprint) under a fresh key,
    // held by an attempt that will never come back.
    const crashed = newKey();
    const sendCrashed = () => api.request('POST', `/simulator/accounts/${account.id}/deposits`, { body: { amount: 700 }, headers: { 'idempotency-key': crashed } });
    const before = await depositCount(account.id);
    await api.app.ctx.db.query(
      `INSERT INTO idempotency_keys (organization_id, key, fingerprint, state, lease_token, locked_until, created_at, expires_at)
       SELECT organization_id, $3, fingerprint, 'running', 'dead-attempt', $4, created_at, expires_at FROM idempotency_keys
       WHERE organization_id = $1 AND key = $2`,
      [api.organizationId, key, crashed, new Date(clock.now().getTime() + IDEMPOTENCY_LEASE_MS)],
    );
    assertInUse(await sendCrashed());
    clock.advance(PAST_THE_LEASE_MS);
    const responses = await Promise.all([sendCrashed(), sendCrashed(), sendCrashed()]);
    const executed = responses.filter((r) => r.status === 201 && r.headers.get('idempotent-replayed') === null);
    assert.equal(executed.length, 1, responses.map((r) => r.status).join(', '));
    for (const r of responses) if (r !== executed[0]) assert.ok(r.status === 409 || r.text === executed[0].text, r.text);
    assert.equal(await depositCount(account.id), before + 1);
  });
});

describe('the process died after the effect committed, before its answer was stored', () => {
  test('the retry never executes again and never answers 409 past the lease: it answers the committed result', async () => {
    const account = await createAccount(api);
    const key = newKey();
    const send = () => api.request('POST', `/simulator/accounts/${account.id}/deposits`, { body: { amount: 250 }, headers: { 'idempotency-key': key } });
    const first = await send();
    assert.equal(first.status, 201, first.text);
    const balance = await balanceOf(api, account.id);
    const deposits = await depositCount(account.id);
    await dieMidRequest(key, 'committed');

    // The first request could still be storing its answer: wait, do not execute.
    assertInUse(await send());
    clock.advance(PAST_THE_LEASE_MS);
    const retry = await send();
    assert.equal(retry.status, 201, retry.text);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.equal(retry.body.message, LOST_RESPONSE_MESSAGE);
    assert.deepEqual(retry.body.data, first.body.data, 'the result the deposit committed, in the route\'s shape');
    assert.equal((await keyRow(key)).state, 'completed', 'that answer is now the key\'s answer');
    assert.equal((await send()).text, retry.text);
    assert.deepEqual(await balanceOf(api, account.id), balance, 'the deposit did not run again');
    assert.equal(await depositCount(account.id), deposits);
  });

  test('the committed marker is written by the command\'s own transaction', async () => {
    const account = await createAccount(api);
    const key = newKey();
    const res = await api.request('POST', `/simulator/accounts/${account.id}/deposits`, { body: { amount: 5 }, headers: { 'idempotency-key': key } });
    assert.equal(res.status, 201, res.text);
    const row = await keyRow(key);
    assert.equal(row.state, 'completed');
    assert.ok(row.result_sealed, 'the transaction kept its sealed result');
    assert.equal(row.result_sealed.includes(account.id), false);
  });
});

describe('each request marks its own key', () => {
  test('concurrent keyed deposits: each key keeps the result of its own transaction', async () => {
    const account = await createAccount(api);
    const deposits = Array.from({ length: 6 }, (_, i) => ({ key: newKey(), amount: 100 + i }));
    const send = (d: (typeof deposits)[number]) =>
      api.request('POST', `/simulator/accounts/${account.id}/deposits`, { body: { amount: d.amount }, headers: { 'idempotency-key': d.key } });
    const answers = await Promise.all(deposits.map(send));
    for (const res of answers) assert.equal(res.status, 201, res.text);
    for (const d of deposits) await dieMidRequest(d.key, 'committed');
    clock.advance(PAST_THE_LEASE_MS);
    for (const [i, d] of deposits.entries()) {
      const rebuilt = await send(d);
      assert.equal(rebuilt.body.message, LOST_RESPONSE_MESSAGE);
      assert.deepEqual(rebuilt.body.data, answers[i].body.data, `${d.key} holds the result of its own deposit`);
    }
  });
});
