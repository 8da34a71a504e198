import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type Harness } from '../support/api.ts';
import { balanceOf, createAccount } from '../support/fixtures.ts';

let api: Harness;
before(async () => { api = await startHarness(); });
after(async () => { await api.checkLedger(); await api.close(); });

describe('accounts', () => {
  test('a new account opens with the sandbox deposit: a real entry and events', async () => {
    const account = await createAccount(api);
    assert.equal(account.status, 'active');
    assert.deepEqual(account.balance, { available: 10_000_000, pending: 0, posted: 10_000_000 });
    const entries = await api.request('GET', `/accounts/${account.id}/entries`);
    assert.equal(entries.status, 200);
    assert.equal(entries.body.data.length, 1);
    assert.deepEqual(
      { direction: entries.body.data[0].direction, amount: entries.body.data[0].amount, kind: entries.body.data[0].kind, balanceAfter: entries.body.data[0].balanceAfter },
      { direction: 'credit', amount: 10_000_000, kind: 'sandbox_deposit', balanceAfter: 10_000_000 },
    );
    const events = await api.request('GET', `/events?resourceId=${account.id}&sort=createdAt`);
    assert.deepEqual(events.body.data.map((e: any) => [e.type, e.sequence]), [['account.created', 1], ['account.deposit_received', 2]]);
  });

  test('currency is upper-cased and must be ISO 4217', async () => {
    const eur = await createAccount(api, { currency: 'eur' });
    assert.equal(eur.currency, 'EUR');
    const bad = await api.request('POST', '/accounts', { body: { ownerType: 'business', ownerId: 'o', name: 'x', type: 'checking', category: 'fiat', currency: 'XYZ' } });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.error.code, 'invalid_currency');
  });

  test('validation names the field and unknown fields are refused', async () => {
    const res = await api.request('POST', '/accounts', { body: { ownerType: 'robot', ownerId: 'o', name: 'x', type: 'checking', category: 'fiat', currency: 'USD', extra: 1 } });
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, 'validation_failed');
    const fields = res.body.error.details.map((d: any) => d.field);
    assert.ok(fields.includes('ownerType'), JSON.stringify(fields));
    assert.ok(fields.includes('extra'), JSON.stringify(fields));
  });

  test('list filters by currency and status; get, rename, freeze', async () => {
    const account = await createAccount(api, { name: 'To freeze', currency: 'GBP' });
    const list = await api.request('GET', '/accounts?currency=GBP');
    assert.ok(list.body.data.every((a: any) => a.currency === 'GBP'));
    assert.ok(list.body.data.some((a: any) => a.id === account.id));
    assert.deepEqual(list.body.meta.filters, { currency: 'GBP' });

    const renamed = await api.request('PATCH', `/accounts/${account.id}`, { body: { name: 'Renamed', status: 'frozen' } });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.body.data.name, 'Renamed');
    assert.equal(renamed.body.data.status, 'frozen');
    const events = await api.request('GET', `/events?resourceId=${account.id}&type=account.updated`);
    assert.equal(events.body.data[0].previousAttributes.status, 'active');
    assert.equal(events.body.data[0].previousAttributes.name, 'To freeze');

    const frozen = await api.request('GET', '/accounts?status=frozen');
    assert.ok(frozen.body.data.some((a: any) => a.id === account.id));
    const empty = await api.request('PATCH', `/accounts/${account.id}`, { body: {} });
    assert.equal(empty.status, 422);
  });

  test('simulated deposits credit the account and are recorded', async () => {
    const account = await createAccount(api);
    const deposit = await api.request('POST', `/simulator/accounts/${account.id}/deposits`, { body: { amount: 2_500 } });
    assert.equal(deposit.status, 201, deposit.text);
    assert.equal(deposit.body.data.balance.available, 10_002_500);
    assert.deepEqual(await balanceOf(api, account.id), { available: 10_002_500, pending: 0, posted: 10_002_500 });
    for (const amount of [0, -5, 1.5, Number.MAX_SAFE_INTEGER + 1, 'ten']) {
      const bad = await api.request('POST', `/simulator/accounts/${account.id}/deposits`, { body: { amount } });
      assert.equal(bad.status, 422, `${amount}: ${bad.text}`);
      assert.equal(bad.body.error.code, 'invalid_amount');
    }
  });

  test('book transfers move money exactly, refuse overdraft, currency mismatch and the same account', async () => {
    const from = await createAccount(api);
    const to = await createAccount(api);
    const ok = await api.request('POST', '/transfers', { body: { fromAccountId: from.id, toAccountId: to.id, amount: 1_234, currency: 'USD', description: 'rent' } });
    assert.equal(ok.status, 201, ok.text);
    assert.equal((await balanceOf(api, from.id)).available, 10_000_000 - 1_234);
    assert.equal((await balanceOf(api, to.id)).available, 10_000_000 + 1_234);

    const tooMuch = await api.request('POST', '/transfers', { body: { fromAccountId: from.id, toAccountId: to.id, amount: 20_000_000, currency: 'USD' } });
    assert.equal(tooMuch.status, 422);
    assert.equal(tooMuch.body.error.code, 'insufficient_funds');
    assert.equal((await balanceOf(api, from.id)).available, 10_000_000 - 1_234);

    const eur = await createAccount(api, { currency: 'EUR' });
    const mismatch = await api.request('POST', '/transfers', { body: { fromAccountId: from.id, toAccountId: eur.id, amount: 1, currency: 'USD' } });
    assert.equal(mismatch.status, 422);
    assert.equal(mismatch.body.error.code, 'currency_mismatch');

    const same = await api.request('POST', '/transfers', { body: { fromAccountId: from.id, toAccountId: from.id, amount: 1, currency: 'USD' } });
    assert.equal(same.status, 422);
    assert.equal(same.body.error.code, 'same_account');

    const entries = await api.request('GET', `/accounts/${from.id}/entries?limit=1`);
    assert.equal(entries.body.data[0].direction, 'debit');
    assert.equal(entries.body.data[0].kind, 'book_transfer');
    assert.equal(entries.body.data[0].balanceAfter, 10_000_000 - 1_234);
    assert.equal(entries.body.meta.hasMore, true);
  });

  test('a frozen account cannot send money; close needs a zero balance', async () => {
    const account = await createAccount(api);
    const other = await createAccount(api);
    await api.request('PATCH', `/accounts/${account.id}`, { body: { status: 'frozen' } });
    const blocked = await api.request('POST', '/transfers', { body: { fromAccountId: account.id, toAccountId: other.id, amount: 1, currency: 'USD' } });
    assert.equal(blocked.status, 422);
    assert.equal(blocked.body.error.code, 'account_not_active');

    const notEmpty = await api.request('POST', `/accounts/${account.id}/close`);
    assert.equal(notEmpty.status, 422);
    assert.equal(notEmpty.body.error.code, 'account_not_empty');

    await api.request('PATCH', `/accounts/${account.id}`, { body: { status: 'active' } });
    const drain = await api.request('POST', '/transfers', { body: { fromAccountId: account.id, toAccountId: other.id, amount: 10_000_000, currency: 'USD' } });
    assert.equal(drain.status, 201, drain.text);
    const closed = await api.request('POST', `/accounts/${account.id}/close`);
    assert.equal(closed.status, 200, closed.text);
    assert.equal(closed.body.data.status, 'closed');
    assert.ok(closed.body.data.closedAt);
    const again = await api.request('POST', `/accounts/${account.id}/close`);
    assert.equal(again.status, 409);
    const reopen = await api.request('PATCH', `/accounts/${account.id}`, { body: { status: 'active' } });
    assert.equal(reopen.status, 409);
  });

  test('another organization sees 404 for this account', async () => {
    const account = await createAccount(api);
    const other = await api.otherOrganization();
    for (const [method, path] of [['GET', `/accounts/${account.id}`], ['GET', `/accounts/${account.id}/entries`], ['POST', `/accounts/${account.id}/close`]]) {
      const res = await api.request(method, path, { key: other.apiKey });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal(res.body.error.code, 'not_found');
    }
    const patch = await api.request('PATCH', `/accounts/${account.id}`, { key: other.apiKey, body: { name: 'x' } });
    assert.equal(patch.status, 404);
    const steal = await api.request('POST', '/transfers', { key: other.apiKey, body: { fromAccountId: account.id, toAccountId: account.id + 'x', amount: 1, currency: 'USD' } });
    assert.equal(steal.status, 422);
    assert.equal(steal.body.error.code, 'account_not_found');
    assert.equal((await balanceOf(api, account.id)).available, 10_000_000);
  });
});

describe('opening balance configuration', () => {
  test('PAYGEN_SANDBOX_OPENING_BALANCE=0 opens accounts empty', async () => {
    const empty = await startHarness({ config: { sandboxOpeningBalance: 0 } });
    try {
      const account = await createAccount(empty);
      assert.deepEqual(account.balance, { available: 0, pending: 0, posted: 0 });
      const entries = await empty.request('GET', `/accounts/${account.id}/entries`);
      assert.equal(entries.body.data.length, 0);
      await empty.checkLedger();
    } finally {
      await empty.close();
    }
  });
});
