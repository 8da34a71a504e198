// POST /simulator/authorizations: approvals, every decline reason, partial approval, network id
// dedupe, reads and tenancy. Every assertion goes through the HTTP API.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type Harness } from '../support/api.ts';
import { createAccount, createCardHolder, createProgram, issueNameOnlyCard } from '../support/fixtures.ts';
import { MERCHANT, approved, authorize, cardBalance, fundedCard } from './support.ts';

let api: Harness;
before(async () => { api = await startHarness({ config: { workers: false } }); });
after(async () => {
  try { await api.checkLedger(); } finally { await api.close(); }
});

async function declined(cardId: string, amount: number, reason: string, extra: Record<string, unknown> = {}) {
  const res = await authorize(api, cardId, amount, extra);
  assert.equal(res.status, 201, res.text);
  const auth = res.body.data;
  assert.equal(auth.approved, false, res.text);
  assert.equal(auth.status, 'declined');
  assert.equal(auth.declineReason, reason);
  assert.equal(auth.heldAmount, 0);
  assert.equal(auth.expiresAt, null);
  return auth;
}

describe('approval', () => {
  test('an approved authorization holds the amount on the card and settlement, with its event', async () => {
    const { card } = await fundedCard(api, 5_000);
    const auth = await approved(api, card.id, 1_250);
    assert.match(auth.id, /^auth_/);
    assert.equal(auth.status, 'pending');
    assert.equal(auth.requestedAmount, 1_250);
    assert.equal(auth.approvedAmount, 1_250);
    assert.equal(auth.heldAmount, 1_250);
    assert.equal(auth.capturedAmount, 0);
    assert.equal(auth.decisionSource, 'rules');
    assert.equal(auth.decisionLatencyMs, null);
    assert.deepEqual(auth.merchant, MERCHANT);
    assert.equal(auth.history.length, 1);
    assert.equal(auth.history[0].kind, 'authorization');
    // The default hold lives 168 hours.
    assert.equal(Date.parse(auth.expiresAt) - Date.parse(auth.createdAt), 168 * 3600_000);
    assert.deepEqual(await cardBalance(api, card.id), { available: 3_750, pending: 1_250 });
    const got = await api.request('GET', `/authorizations/${auth.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.data, auth);
    const events = await api.request('GET', `/events?resourceId=${auth.id}`);
    assert.deepEqual(events.body.data.map((e: { type: string }) => e.type), ['authorization.created']);
    // The card's ledger entries show the hold.
    const entries = await api.request('GET', `/cards/${card.id}`);
    assert.equal(entries.body.data.balance.pending, 1_250);
  });

  test('amount, currency case and entry modes: a lower-case currency is the same currency', async () => {
    const { card } = await fundedCard(api, 1_000);
    const auth = await approved(api, card.id, 100, { currency: 'usd', entryMode: 'ecommerce' });
    assert.equal(auth.currency, 'USD');
    assert.equal(auth.entryMode, 'ecommerce');
  });

  test('bad bodies are 422 and leave nothing', async () => {
    const { card } = await fundedCard(api, 1_000);
    for (const [body, code] of [
      [{ cardId: card.id, amount: 0, currency: 'USD', merchant: MERCHANT, entryMode: 'chip' }, 'invalid_amount'],
      [{ cardId: card.id, amount: 1.5, currency: 'USD', merchant: MERCHANT, entryMode: 'chip' }, 'invalid_amount'],
      [{ cardId: card.id, amount: 10, currency: 'USD', merchant: MERCHANT, entryMode: 'tap' }, 'validation_failed'],
      [{ cardId: card.id, amount: 10, currency: 'USD', merchant: { ...MERCHANT, mcc: '58' }, entryMode: 'chip' }, 'validation_failed'],
      [{ cardId: card.id, amount: 10, currency: 'USD', entryMode: 'chip' }, 'validation_failed'],
    ] as const) {
      const res = await api.request('POST', '/simulator/authorizations', { body });
      assert.equal(res.status, 422, res.text);
      assert.equal(res.body.error.code, code);
    }
    assert.deepEqual(await cardBalance(api, card.id), { available: 1_000, pending: 0 });
  });
});

describe('declines', () => {
  test('card_not_active: locked, suspended, cancelled; a digital card only online', async () => {
    const { card } = await fundedCard(api, 1_000);
    assert.equal((await api.request('POST', `/cards/${card.id}/freeze`)).status, 200);
    await declined(card.id, 100, 'card_not_active');
    assert.equal((await api.request('POST', `/cards/${card.id}/unfreeze`)).status, 200);
    assert.equal((await api.request('POST', `/simulator/cards/${card.id}/suspend`)).status, 200);
    await declined(card.id, 100, 'card_not_active');
    assert.equal((await api.request('POST', `/simulator/cards/${card.id}/reinstate`)).status, 200);
    await approved(api, card.id, 100);
    assert.equal((await api.request('POST', `/cards/${card.id}/cancel`, { body: {} })).status, 200);
    await declined(card.id, 100, 'card_not_active');

    const account = await createAccount(api);
    const holder = await createCardHolder(api);
    const program = await createProgram(api);
    const physical = await api.request('POST', '/cards', {
      body: {
        debitAccountId: account.id, cardHolderId: holder.id, type: 'physical', currency: 'USD', typeId: program.id, amount: 1_000,
        termsAndConditionsAccepted: true, eDisclosureAccepted: true,
        deliveryAddress: { address1: '123 Main St', city: 'San Francisco', countryCode: 'US', state: 'CA', postalCode: '94105' },
      },
    });
    assert.equal(physical.status, 201, physical.text);
    assert.equal(physical.body.data.status, 'issued');
    await declined(physical.body.data.id, 100, 'card_not_active', { entryMode: 'ecommerce' });
    assert.equal((await api.request('POST', `/simulator/cards/${physical.body.data.id}/ship`)).body.data.status, 'digital');
    await declined(physical.body.data.id, 100, 'card_not_active', { entryMode: 'chip' });
    await approved(api, physical.body.data.id, 100, { entryMode: 'ecommerce' });
  });

  test('card_expired: the clock past the card\'s expiry month', async () => {
    const { ManualClock } = await import('../../src/platform/clock.ts');
    const clock = new ManualClock(new Date('2026-03-15T12:00:00Z'));
    const timed = await startHarness({ clock, config: { workers: false } });
    try {
      const { card } = await fundedCard(timed, 1_000, { program: { cardValidityYears: 1 } });
      assert.deepEqual(card.expiry, { month: 3, year: 2027 });
      clock.advance(381 * 24 * 3600_000); // 2027-03-31
      assert.equal((await authorize(timed, card.id, 100)).body.data.approved, true);
      clock.advance(24 * 3600_000); // 2027-04-01
      const res = await authorize(timed, card.id, 100);
      assert.equal(res.body.data.declineReason, 'card_expired', res.text);
      await timed.checkLedger();
    } finally {
      await timed.close();
    }
  });

  test('currency_mismatch', async () => {
    const { card } = await fundedCard(api, 1_000);
    await declined(card.id, 100, 'currency_mismatch', { currency: 'EUR' });
  });

  test('spend_limit_exceeded: per transaction and per interval, from the program, the card and the card holder', async () => {
    const perTransaction = await fundedCard(api, 10_000, { program: { defaultSpendControls: { limits: [{ amount: 500, interval: 'per_transaction' }] } } });
    await declined(perTransaction.card.id, 501, 'spend_limit_exceeded');
    await approved(api, perTransaction.card.id, 500);

    const daily = await fundedCard(api, 10_000, { card: { spendControls: { limits: [{ amount: 1_000, interval: 'daily' }] } } });
    const first = await approved(api, daily.card.id, 600);
    await declined(daily.card.id, 401, 'spend_limit_exceeded');
    // A reversed hold no longer counts; a capture counts at its captured amount.
    assert.equal((await api.request('POST', `/simulator/authorizations/${first.id}/reverse`, { body: { amount: 600 } })).status, 200);
    const second = await approved(api, daily.card.id, 900);
    assert.equal((await api.request('POST', `/simulator/authorizations/${second.id}/capture`, { body: { amount: 950 } })).status, 200);
    await declined(daily.card.id, 51, 'spend_limit_exceeded');
    await approved(api, daily.card.id, 50);

    const account = await createAccount(api);
    const program = await createProgram(api);
    const holder = await createCardHolder(api);
    const patched = await api.request('PATCH', `/card-holders/${holder.id}`, { body: { spendControls: { limits: [{ amount: 700, interval: 'monthly' }] } } });
    assert.equal(patched.status, 200, patched.text);
    const cards = [];
    for (let i = 0; i < 2; i++) {
      const res = await api.request('POST', '/cards', { body: { debitAccountId: account.id, cardHolderId: holder.id, type: 'virtual', currency: 'USD', typeId: program.id, amount: 1_000, termsAndConditionsAccepted: true, eDisclosureAccepted: true } });
      assert.equal(res.status, 201, res.text);
      cards.push(res.body.data);
    }
    await approved(api, cards[0].id, 400);
    await declined(cards[1].id, 301, 'spend_limit_exceeded');
    await approved(api, cards[1].id, 300);
  });

  test('category_blocked and country_blocked: allowed and blocked lists', async () => {
    const blocked = await fundedCard(api, 1_000, { card: { spendControls: { blockedCategories: ['5812'], blockedCountries: ['FR'] } } });
    await declined(blocked.card.id, 100, 'category_blocked');
    await declined(blocked.card.id, 100, 'country_blocked', { merchant: { ...MERCHANT, mcc: '5411', country: 'FR' } });
    await approved(api, blocked.card.id, 100, { merchant: { ...MERCHANT, mcc: '5411' } });
    const allowed = await fundedCard(api, 1_000, { program: { defaultSpendControls: { allowedCategories: ['5411'], allowedCountries: ['US', 'CA'] } } });
    await declined(allowed.card.id, 100, 'category_blocked');
    await declined(allowed.card.id, 100, 'country_blocked', { merchant: { ...MERCHANT, mcc: '5411', country: 'GB' } });
    await approved(api, allowed.card.id, 100, { merchant: { ...MERCHANT, mcc: '5411', country: 'CA' } });
  });

  test('the checks run in order: status before currency before controls before funds', async () => {
    const { card } = await fundedCard(api, 100, { card: { spendControls: { blockedCategories: ['5812'] } } });
    await declined(card.id, 1_000, 'category_blocked');
    await declined(card.id, 1_000, 'currency_mismatch', { currency: 'EUR' });
    await api.request('POST', `/cards/${card.id}/freeze`);
    await declined(card.id, 1_000, 'card_not_active', { currency: 'EUR' });
  });

  test('insufficient_funds: no hold, nothing moves', async () => {
    const { card } = await fundedCard(api, 1_000);
    await declined(card.id, 1_001, 'insufficient_funds');
    assert.deepEqual(await cardBalance(api, card.id), { available: 1_000, pending: 0 });
    const events = await api.request('GET', `/events?type=authorization.created&limit=5`);
    assert.equal(events.body.data[0].data.declineReason, 'insufficient_funds');
  });
});

describe('partial approval', () => {
  test('with partialApprovalSupported and short funds, the available amount is approved and held', async () => {
    const { card } = await fundedCard(api, 700);
    const auth = await approved(api, card.id, 1_000, { partialApprovalSupported: true });
    assert.equal(auth.requestedAmount, 1_000);
    assert.equal(auth.approvedAmount, 700);
    assert.equal(auth.heldAmount, 700);
    assert.deepEqual(await cardBalance(api, card.id), { available: 0, pending: 700 });
    // Nothing left: even a partial approval declines.
    await declined(card.id, 10, 'insufficient_funds', { partialApprovalSupported: true });
  });
});

describe('network id', () => {
  test('the same network message twice returns the stored decision and holds once', async () => {
    const { card } = await fundedCard(api, 1_000);
    const first = await approved(api, card.id, 300, { networkId: 'net-0001' });
    const again = await authorize(api, card.id, 300, { networkId: 'net-0001' });
    assert.equal(again.status, 201);
    assert.deepEqual(again.body.data, first);
    assert.deepEqual(await cardBalance(api, card.id), { available: 700, pending: 300 });
    // A declined message is stored too.
    const decline = await authorize(api, card.id, 5_000, { networkId: 'net-0002' });
    await api.request('POST', `/cards/${card.id}/top-up`, { body: { amount: 10_000 } });
    const replay = await authorize(api, card.id, 5_000, { networkId: 'net-0002' });
    assert.deepEqual(replay.body.data, decline.body.data);
    assert.equal(replay.body.data.approved, false);
    const list = await api.request('GET', `/authorizations?cardId=${card.id}`);
    assert.equal(list.body.data.length, 2);
  });

  test('network ids are per organization', async () => {
    const { card } = await fundedCard(api, 1_000);
    await approved(api, card.id, 100, { networkId: 'shared-id' });
    const other = await api.otherOrganization();
    const account = await createAccount(api, {}, other.apiKey);
    const program = await api.request('POST', '/card-programs', { key: other.apiKey, body: { name: 'Other', brand: 'Visa', bin: '45990001', currency: 'USD', allowNameOnlyIssuance: true, requiresVerifiedCardHolder: false } });
    assert.equal(program.status, 201, program.text);
    const res = await issueNameOnlyCard({ ...api, request: (m, p, o = {}) => api.request(m, p, { ...o, key: other.apiKey }) }, account, program.body.data, 1_000);
    assert.equal(res.status, 201, res.text);
    const theirs = await authorize(api, res.body.data.id, 100, { networkId: 'shared-id' }, other.apiKey);
    assert.equal(theirs.status, 201);
    assert.equal(theirs.body.data.approved, true);
    assert.equal(theirs.body.data.cardId, res.body.data.id);
    assert.notEqual(theirs.body.data.cardId, card.id);
  });
});

describe('reads and tenancy', () => {
  test('lists filter by card, status and creation time; pages with cursors', async () => {
    const { card } = await fundedCard(api, 1_000);
    const a = await approved(api, card.id, 100);
    await authorize(api, card.id, 5_000);
    const c = await approved(api, card.id, 200);
    const byCard = await api.request('GET', `/authorizations?cardId=${card.id}`);
    assert.deepEqual(byCard.body.data.map((x: { id: string }) => x.id).slice(0, 1), [c.id]);
    assert.equal(byCard.body.data.length, 3);
    const declinedOnly = await api.request('GET', `/authorizations?cardId=${card.id}&status=declined`);
    assert.equal(declinedOnly.body.data.length, 1);
    assert.equal(declinedOnly.body.meta.filters.status, 'declined');
    const paged = await api.request('GET', `/authorizations?cardId=${card.id}&limit=2&sort=createdAt`);
    assert.equal(paged.body.data[0].id, a.id);
    assert.equal(paged.body.meta.hasMore, true);
    const next = await api.request('GET', `/authorizations?cardId=${card.id}&limit=2&sort=createdAt&cursor=${paged.body.meta.nextCursor}`);
    assert.deepEqual(next.body.data.map((x: { id: string }) => x.id), [c.id]);
    const future = await api.request('GET', `/authorizations?cardId=${card.id}&createdFrom=2999-01-01T00:00:00Z`);
    assert.equal(future.body.data.length, 0);
    const bad = await api.request('GET', '/authorizations?status=open');
    assert.equal(bad.status, 422);
  });

  test('another organization\'s card and authorization answer 404', async () => {
    const { card } = await fundedCard(api, 1_000);
    const auth = await approved(api, card.id, 100);
    const other = await api.otherOrganization();
    const res = await authorize(api, card.id, 100, {}, other.apiKey);
    assert.equal(res.status, 404, res.text);
    assert.equal(res.body.error.code, 'not_found');
    assert.equal((await authorize(api, 'card_nope', 100)).status, 404);
    for (const path of [`/authorizations/${auth.id}`]) {
      assert.equal((await api.request('GET', path, { key: other.apiKey })).status, 404);
    }
    for (const action of ['capture', 'reverse', 'expire']) {
      const r = await api.request('POST', `/simulator/authorizations/${auth.id}/${action}`, { key: other.apiKey });
      assert.equal(r.status, 404, r.text);
    }
    assert.equal((await api.request('POST', `/simulator/authorizations/${auth.id}/increment`, { key: other.apiKey, body: { amount: 1 } })).status, 404);
    const list = await api.request('GET', `/authorizations?cardId=${card.id}`, { key: other.apiKey });
    assert.equal(list.body.data.length, 0);
    assert.deepEqual(await cardBalance(api, card.id), { available: 900, pending: 100 });
  });
});
