// The seed quickstart (spec/seeds/000_*.txt), its three requests exactly as written there:
// a JSON account, a multipart card holder (curl -F), a JSON card funded with 100.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startHarness, type Harness } from '../support/api.ts';

let api: Harness;
before(async () => { api = await startHarness(); });
after(async () => { await api.checkLedger(); await api.close(); });

test('the seed quickstart issues a card and debits the account by exactly 100', async () => {
  const account = await api.request('POST', '/accounts', {
    headers: { 'Content-Type': 'application/json' },
    raw: `{
    "ownerType": "business",
    "ownerId": "665f1c4f4a4f4a4f4a4f4a4f",
    "name": "Primary USD Wallet",
    "type": "checking",
    "category": "fiat",
    "currency": "USD"
  }`,
  });
  assert.equal(account.status, 201, account.text);
  assert.equal(account.body.statusCode, 201);
  assert.equal(typeof account.body.message, 'string');
  const accountId = account.body.data.id;
  assert.match(accountId, /^acc_/);
  const opening = account.body.data.balance.available;

  const form = new FormData();
  for (const [name, value] of [['firstName', 'Jane'], ['lastName', 'Doe'], ['email', 'jane.doe@example.com'],
    ['phoneNumber', '+1234567890'], ['addressLine1', '123 Main St'], ['city', 'San Francisco'], ['state', 'CA'],
    ['postalCode', '94105'], ['country', 'US']]) form.append(name, value);
  const holder = await api.request('POST', '/card-holders', { form });
  assert.equal(holder.status, 201, holder.text);
  const cardHolderId = holder.body.data.id;
  assert.match(cardHolderId, /^ch_/);

  const card = await api.request('POST', '/cards', {
    headers: { 'Content-Type': 'application/json' },
    raw: `{
    "debitAccountId": "${accountId}",
    "cardHolderId": "${cardHolderId}",
    "type": "virtual",
    "brand": "Visa",
    "currency": "USD",
    "status": "active",
    "amount": 100
  }`,
  });
  assert.equal(card.status, 201, card.text);
  assert.deepEqual(Object.keys(card.body).sort(), ['data', 'message', 'statusCode']);
  const data = card.body.data;
  assert.equal(data.status, 'active');
  assert.equal(data.type, 'virtual');
  assert.equal(data.brand, 'Visa');
  assert.equal(data.scheme, 'VISA');
  assert.equal(data.currency, 'USD');
  assert.equal(data.cardHolderId, cardHolderId);
  assert.equal(data.debitAccountId, accountId);
  assert.deepEqual(data.balance, { available: 100, pending: 0 });
  assert.match(data.maskedPan, /^\d{6,8}\*+\d{4}$/);
  assert.equal(data.maskedPan.length, 16);
  assert.ok(!('pan' in data) && !('cvv' in data));
  assert.ok(data.expiry.year > new Date().getUTCFullYear());

  const after = await api.request('GET', `/accounts/${accountId}`);
  assert.equal(after.body.data.balance.available, opening - 100);
  assert.equal(after.body.data.balance.posted, opening - 100);

  const events = await api.request('GET', `/events?resourceId=${data.id}`);
  assert.deepEqual(events.body.data.map((e: any) => e.type), ['card.created']);
});
