// The ledger check itself must be able to fail: corrupt a counter behind the API's back and see
// the check name the account; a transfer that would overdraw is refused by the database too.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startHarness, type Harness } from '../support/api.ts';
import { createAccount } from '../support/fixtures.ts';
import * as ledger from '../../src/modules/ledger/ledger.service.ts';

let api: Harness;
before(async () => { api = await startHarness(); });
after(async () => { await api.checkLedger(); await api.close(); });

async function ledgerAccountOf(accountId: string) {
  const [row] = await api.app.ctx.db.query<{ ledger_account_id: string }>('SELECT ledger_account_id FROM accounts WHERE id = $1', [accountId]);
  return row.ledger_account_id;
}

test('Σ debits = Σ credits and counters = Σ transfers after real traffic', async () => {
  const a = await createAccount(api);
  const b = await createAccount(api);
  await api.request('POST', '/transfers', { body: { fromAccountId: a.id, toAccountId: b.id, amount: 500, currency: 'USD' } });
  assert.deepEqual(await ledger.check(api.app.ctx.db), { ok: true, problems: [] });
});

test('pending transfers post or void once and keep the books balanced', async () => {
  const a = await createAccount(api);
  const b = await createAccount(api);
  const [la, lb] = [await ledgerAccountOf(a.id), await ledgerAccountOf(b.id)];
  const db = api.app.ctx.db;
  const at = new Date();
  const hold = await db.transaction((tx) => ledger.transfer(tx, { organizationId: api.organizationId, kind: 'pending', debitAccountId: la, creditAccountId: lb, amount: 300, currency: 'USD', code: 'test_hold', at }));
  assert.equal((await api.request('GET', `/accounts/${a.id}`)).body.data.balance.available, 10_000_000 - 300);
  assert.equal((await api.request('GET', `/accounts/${a.id}`)).body.data.balance.pending, 300);
  await db.transaction((tx) => ledger.resolvePending(tx, api.organizationId, hold.id, 'post', at, 200));
  assert.deepEqual((await api.request('GET', `/accounts/${a.id}`)).body.data.balance, { available: 10_000_000 - 200, pending: 0, posted: 10_000_000 - 200 });
  await assert.rejects(db.transaction((tx) => ledger.resolvePending(tx, api.organizationId, hold.id, 'void', at)));
  const second = await db.transaction((tx) => ledger.transfer(tx, { organizationId: api.organizationId, kind: 'pending', debitAccountId: la, creditAccountId: lb, amount: 50, currency: 'USD', code: 'test_hold', at }));
  await db.transaction((tx) => ledger.resolvePending(tx, api.organizationId, second.id, 'void', at));
  assert.deepEqual(await ledger.check(db), { ok: true, problems: [] });
});

test('the check catches a counter changed behind the ledger\'s back', async () => {
  const a = await createAccount(api);
  const la = await ledgerAccountOf(a.id);
  await api.app.ctx.db.query('UPDATE ledger_accounts SET credits_posted = credits_posted + 1 WHERE id = $1', [la]);
  const result = await ledger.check(api.app.ctx.db);
  assert.equal(result.ok, false);
  assert.ok(result.problems.some((p) => p.includes(la)), result.problems.join('\n'));
  assert.ok(result.problems.some((p) => p.startsWith('USD: posted debits')), result.problems.join('\n'));
  await api.app.ctx.db.query('UPDATE ledger_accounts SET credits_posted = credits_posted - 1 WHERE id = $1', [la]);
  assert.equal((await ledger.check(api.app.ctx.db)).ok, true);
});

test('the database refuses a customer account below zero even if a guard were missed', async () => {
  const a = await createAccount(api);
  const la = await ledgerAccountOf(a.id);
  await assert.rejects(api.app.ctx.db.query('UPDATE ledger_accounts SET debits_posted = debits_posted + 10000001 WHERE id = $1', [la]));
});
