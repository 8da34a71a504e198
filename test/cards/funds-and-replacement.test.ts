// Top-up and withdrawal between a card and its debit account, and card replacement.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type Harness } from '../support/api.ts';
import { balanceOf, createAccount, createProgram, issueNameOnlyCard } from '../support/fixtures.ts';

let api: Harness;
let program: { id: string };
before(async () => { api = await startHarness(); program = await createProgram(api); });
after(async () => { await api.checkLedger(); await api.close(); });

async function newCard(amount = 1_000, extra: Record<string, unknown> = {}) {
  const account = await createAccount(api);
  const res = await issueNameOnlyCard(api, account, program, amount, extra);
  assert.equal(res.status, 201, res.text);
  return { account, card: res.body.data };
}

describe('top-up and withdraw', () => {
  test('move exact amounts both ways, with entries and events', async () => {
    const { account, card } = await newCard(1_000);
    const up = await api.request('POST', `/cards/${card.id}/top-up`, { body: { amount: 250 } });
    assert.equal(up.status, 200, up.text);
    assert.equal(up.body.data.balance.available, 1_250);
    assert.equal((await balanceOf(api, account.id)).available, 10_000_000 - 1_250);
    const down = await api.request('POST', `/cards/${card.id}/withdraw`, { body: { amount: 1_250 } });
    assert.equal(down.status, 200, down.text);
    assert.equal(down.body.data.balance.available, 0);
    assert.equal((await balanceOf(api, account.id)).available, 10_000_000);
    const events = await api.request('GET', `/events?resourceId=${card.id}&sort=createdAt`);
    assert.deepEqual(events.body.data.map((e: any) => e.type), ['card.created', 'card.topped_up', 'card.withdrawn']);
    const entries = await api.request('GET', `/accounts/${account.id}/entries?limit=2`);
    assert.deepEqual(entries.body.data.map((e: any) => [e.kind, e.direction, e.amount]), [['card_withdrawal', 'credit', 1_250], ['card_top_up', 'debit', 250]]);
  });

  test('neither side can be overdrawn; bad amounts are 422 invalid_amount', async () => {
    const { account, card } = await newCard(100);
    const over = await api.request('POST', `/cards/${card.id}/withdraw`, { body: { amount: 101 } });
    assert.equal(over.status, 422);
    assert.equal(over.body.error.code, 'insufficient_funds');
    const tooMuch = await api.request('POST', `/cards/${card.id}/top-up`, { body: { amount: 10_000_000 } });
    assert.equal(tooMuch.status, 422);
    assert.equal(tooMuch.body.error.code, 'insufficient_funds');
    for (const amount of [0, -1, 2.5, '5']) {
      const bad = await api.request('POST', `/cards/${card.id}/top-up`, { body: { amount } });
      assert.equal(bad.status, 422, String(amount));
      assert.equal(bad.body.error.code, 'invalid_amount');
    }
    assert.equal((await api.request('GET', `/cards/${card.id}`)).body.data.balance.available, 100);
    assert.equal((await balanceOf(api, account.id)).available, 10_000_000 - 100);
  });

  test('not on cancelled cards; top-up not from a frozen account; withdraw to a frozen account is fine', async () => {
    const { account, card } = await newCard(300);
    await api.request('PATCH', `/accounts/${account.id}`, { body: { status: 'frozen' } });
    const up = await api.request('POST', `/cards/${card.id}/top-up`, { body: { amount: 1 } });
    assert.equal(up.status, 422);
    assert.equal(up.body.error.code, 'account_not_active');
    const down = await api.request('POST', `/cards/${card.id}/withdraw`, { body: { amount: 100 } });
    assert.equal(down.status, 200, down.text);
    await api.request('PATCH', `/accounts/${account.id}`, { body: { status: 'active' } });
    await api.request('POST', `/cards/${card.id}/cancel`);
    for (const path of ['top-up', 'withdraw']) {
      const res = await api.request('POST', `/cards/${card.id}/${path}`, { body: { amount: 1 } });
      assert.equal(res.status, 409);
      assert.equal(res.body.error.code, 'card_closed');
    }
    assert.equal((await balanceOf(api, account.id)).available, 10_000_000);
  });

  test('another organization cannot move this card\'s money', async () => {
    const { card } = await newCard(100);
    const other = await api.otherOrganization();
    const res = await api.request('POST', `/cards/${card.id}/withdraw`, { key: other.apiKey, body: { amount: 100 } });
    assert.equal(res.status, 404);
    assert.equal((await api.request('GET', `/cards/${card.id}`)).body.data.balance.available, 100);
  });
});

describe('replacement', () => {
  test('lost or stolen: the old card is cancelled at once and its balance moves to the new card', async () => {
    for (const reason of ['lost', 'stolen']) {
      const { account, card } = await newCard(900, { label: 'Travel', metadata: { team: 'ops' } });
      const res = await api.request('POST', `/cards/${card.id}/replace`, { body: { reason } });
      assert.equal(res.status, 201, res.text);
      const fresh = res.body.data;
      assert.notEqual(fresh.id, card.id);
      assert.notEqual(fresh.lastFour + fresh.expiry.year, '');
      assert.equal(fresh.status, 'active');
      assert.equal(fresh.balance.available, 900);
      assert.equal(fresh.replacesCardId, card.id);
      assert.equal(fresh.label, 'Travel');
      assert.deepEqual(fresh.metadata, { team: 'ops' });
      const old = (await api.request('GET', `/cards/${card.id}`)).body.data;
      assert.equal(old.status, 'cancelled');
      assert.equal(old.replacedByCardId, fresh.id);
      assert.equal(old.balance.available, 0);
      assert.equal((await balanceOf(api, account.id)).available, 10_000_000 - 900, 'the money stayed on cards');
      const again = await api.request('POST', `/cards/${card.id}/replace`, { body: { reason } });
      assert.equal(again.status, 409);
    }
  });

  test('damaged physical card: the old one works until the new one is activated', async () => {
    const account = await createAccount(api);
    const address = { address1: '1 Rue de Rivoli', city: 'Paris', countryCode: 'FR', postalCode: '75001' };
    const created = await issueNameOnlyCard(api, account, program, 400, { type: 'physical', deliveryAddress: address });
    const old = created.body.data;
    await api.request('POST', `/cards/${old.id}/activate`);
    const res = await api.request('POST', `/cards/${old.id}/replace`, { body: { reason: 'damaged' } });
    assert.equal(res.status, 201, res.text);
    const fresh = res.body.data;
    assert.equal(fresh.status, 'issued');
    assert.deepEqual(fresh.deliveryAddress, address);
    assert.equal(fresh.balance.available, 0);
    assert.equal((await api.request('GET', `/cards/${old.id}`)).body.data.status, 'active');
    const activated = await api.request('POST', `/cards/${fresh.id}/activate`);
    assert.equal(activated.status, 200, activated.text);
    assert.equal(activated.body.data.balance.available, 400);
    const oldAfter = (await api.request('GET', `/cards/${old.id}`)).body.data;
    assert.equal(oldAfter.status, 'cancelled');
    assert.equal(oldAfter.balance.available, 0);
    const history = await api.request('GET', `/cards/${old.id}/status-history`);
    assert.equal(history.body.data[0].actor, 'system');
    assert.equal((await balanceOf(api, account.id)).available, 10_000_000 - 400);
  });

  test('bad reasons are 422; a cancelled card cannot be replaced', async () => {
    const { card } = await newCard(10);
    const bad = await api.request('POST', `/cards/${card.id}/replace`, { body: { reason: 'bored' } });
    assert.equal(bad.status, 422);
    await api.request('DELETE', `/cards/${card.id}`);
    const res = await api.request('POST', `/cards/${card.id}/replace`, { body: { reason: 'lost' } });
    assert.equal(res.status, 409);
  });
});

describe('PATCH /cards/:id', () => {
  test('label, spend controls and metadata change with an event; bad spend controls are 422', async () => {
    const { card } = await newCard(10);
    const controls = { limits: [{ amount: 5_000, interval: 'daily' }], blockedCategories: ['7995'], allowedCountries: ['US', 'FR'] };
    const res = await api.request('PATCH', `/cards/${card.id}`, { body: { label: 'Ads', spendControls: controls, metadata: { k: 'v' } } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.data.spendControls, controls);
    assert.equal(res.body.data.label, 'Ads');
    const event = (await api.request('GET', `/events?resourceId=${card.id}&type=card.updated`)).body.data[0];
    assert.equal(event.previousAttributes.label, null);
    for (const spendControls of [{ blockedCategories: ['79'] }, { allowedCountries: ['usa'] }, { limits: [{ amount: 0, interval: 'daily' }] }, { limits: [{ amount: 10, interval: 'fortnightly' }] }]) {
      const bad = await api.request('PATCH', `/cards/${card.id}`, { body: { spendControls } });
      assert.equal(bad.status, 422, JSON.stringify(spendControls));
    }
    const cancelled = await api.request('PATCH', `/cards/${card.id}`, { body: { status: 'cancelled' } });
    assert.equal(cancelled.body.data.status, 'cancelled');
    const late = await api.request('PATCH', `/cards/${card.id}`, { body: { label: 'too late' } });
    assert.equal(late.status, 409);
  });
});

describe('card entries', () => {
  test('GET /cards/:id/entries lists the card\'s own ledger entries with running balances', async () => {
    const { card } = await newCard(1_000);
    await api.request('POST', `/cards/${card.id}/top-up`, { body: { amount: 500 } });
    await api.request('POST', `/cards/${card.id}/withdraw`, { body: { amount: 200 } });
    const res = await api.request('GET', `/cards/${card.id}/entries?sort=createdAt`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.data.map((e: any) => [e.kind, e.direction, e.amount, e.balanceAfter]), [
      ['card_funding', 'credit', 1_000, 1_000], ['card_top_up', 'credit', 500, 1_500], ['card_withdrawal', 'debit', 200, 1_300],
    ]);
    const other = await api.otherOrganization();
    assert.equal((await api.request('GET', `/cards/${card.id}/entries`, { key: other.apiKey })).status, 404);
  });
});
