// After the decision: increments, captures (under, equal, over, after expiry, beyond the card's
// funds), reversals, expiry, refunds, force captures and the transactions they leave.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type Harness } from '../support/api.ts';
import { balanceOf } from '../support/fixtures.ts';
import { MERCHANT, approved, cardBalance, fundedCard, step } from './support.ts';

let api: Harness;
before(async () => { api = await startHarness({ config: { workers: false } }); });
after(async () => {
  try { await api.checkLedger(); } finally { await api.close(); }
});

async function ok(res: { status: number; text: string; body: any }, status = 200) {
  assert.equal(res.status, status, res.text);
  return res.body.data;
}

async function transactionsOf(authorizationId: string) {
  return (await api.request('GET', `/transactions?authorizationId=${authorizationId}`)).body.data;
}

describe('increment', () => {
  test('an increment respects spend controls: interval limits count it, a per-transaction cap the new total', async () => {
    const { card } = await fundedCard(api, 10_000, { card: { spendControls: { limits: [{ amount: 1_000, interval: 'per_transaction' }, { amount: 1_500, interval: 'daily' }] } } });
    const auth = await approved(api, card.id, 800);
    const capped = await ok(await step(api, auth.id, 'increment', { amount: 300 }));
    assert.deepEqual([capped.history.at(-1).approved, capped.history.at(-1).reason, capped.heldAmount], [false, 'spend_limit_exceeded', 800]);
    const within = await ok(await step(api, auth.id, 'increment', { amount: 200 }));
    assert.deepEqual([within.history.at(-1).approved, within.heldAmount], [true, 1_000]);
    const second = await approved(api, card.id, 400);
    const daily = await ok(await step(api, second.id, 'increment', { amount: 200 }));
    assert.deepEqual([daily.history.at(-1).approved, daily.history.at(-1).reason, daily.heldAmount], [false, 'spend_limit_exceeded', 400], 'the day already holds 1,400 of 1,500');
    assert.deepEqual(await cardBalance(api, card.id), { available: 10_000 - 1_400, pending: 1_400 });
  });

  test('an increment holds more; a short one is declined in the history and holds nothing', async () => {
    const { card } = await fundedCard(api, 1_000);
    const auth = await approved(api, card.id, 400);
    const more = await ok(await step(api, auth.id, 'increment', { amount: 300 }));
    assert.equal(more.approvedAmount, 700);
    assert.equal(more.heldAmount, 700);
    assert.deepEqual(more.history.at(-1), { ...more.history.at(-1), kind: 'increment', amount: 300, approved: true, reason: null });
    const refused = await ok(await step(api, auth.id, 'increment', { amount: 301 }));
    assert.equal(refused.heldAmount, 700);
    assert.deepEqual(refused.history.at(-1), { ...refused.history.at(-1), kind: 'increment', amount: 301, approved: false, reason: 'insufficient_funds' });
    assert.deepEqual(await cardBalance(api, card.id), { available: 300, pending: 700 });
    await api.request('POST', `/cards/${card.id}/freeze`);
    const frozen = await ok(await step(api, auth.id, 'increment', { amount: 1 }));
    assert.equal(frozen.history.at(-1).reason, 'card_not_active');
    // A capture of both holds posts them both.
    const captured = await ok(await step(api, auth.id, 'capture'));
    assert.equal(captured.capturedAmount, 700);
    assert.deepEqual(await cardBalance(api, card.id), { available: 300, pending: 0 });
    const events = await api.request('GET', `/events?resourceId=${auth.id}&sort=createdAt`);
    assert.deepEqual(events.body.data.map((e: { type: string }) => e.type),
      ['authorization.created', 'authorization.incremented', 'authorization.incremented', 'authorization.incremented', 'authorization.captured']);
  });
});

describe('capture', () => {
  test('less than held: the rest is released; one capture transaction', async () => {
    const { card } = await fundedCard(api, 1_000);
    const auth = await approved(api, card.id, 600);
    const done = await ok(await step(api, auth.id, 'capture', { amount: 450 }));
    assert.equal(done.status, 'closed');
    assert.equal(done.capturedAmount, 450);
    assert.equal(done.heldAmount, 0);
    assert.deepEqual(await cardBalance(api, card.id), { available: 550, pending: 0 });
    const [txn] = await transactionsOf(auth.id);
    assert.equal(txn.type, 'capture');
    assert.equal(txn.amount, 450);
    assert.equal(txn.receivableAmount, 0);
    assert.equal(txn.authorizationId, auth.id);
    assert.deepEqual(txn.merchant, MERCHANT);
    assert.deepEqual((await api.request('GET', `/transactions/${txn.id}`)).body.data, txn);
    const again = await step(api, auth.id, 'capture');
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'authorization_not_capturable');
  });

  test('equal to held (the default amount)', async () => {
    const { card } = await fundedCard(api, 1_000);
    const auth = await approved(api, card.id, 1_000);
    assert.equal((await ok(await step(api, auth.id, 'capture'))).capturedAmount, 1_000);
    assert.deepEqual(await cardBalance(api, card.id), { available: 0, pending: 0 });
  });

  test('more than held: the extra is debited; beyond the card\'s funds it becomes a receivable', async () => {
    const { card } = await fundedCard(api, 1_000);
    const auth = await approved(api, card.id, 500);
    await ok(await step(api, auth.id, 'capture', { amount: 700 }));
    assert.deepEqual(await cardBalance(api, card.id), { available: 300, pending: 0 });
    const second = await approved(api, card.id, 300);
    // On a frozen card too: the network forces clearing.
    await api.request('POST', `/cards/${card.id}/freeze`);
    const done = await ok(await step(api, second.id, 'capture', { amount: 1_000 }));
    assert.equal(done.capturedAmount, 1_000);
    assert.deepEqual(await cardBalance(api, card.id), { available: 0, pending: 0 });
    const [txn] = await transactionsOf(second.id);
    assert.equal(txn.amount, 1_000);
    assert.equal(txn.receivableAmount, 700);
  });

  test('after expiry a capture still succeeds, forced from what the card has', async () => {
    const { card } = await fundedCard(api, 1_000);
    const auth = await approved(api, card.id, 400);
    const expired = await ok(await step(api, auth.id, 'expire'));
    assert.equal(expired.status, 'expired');
    assert.equal(expired.heldAmount, 0);
    assert.deepEqual(await cardBalance(api, card.id), { available: 1_000, pending: 0 });
    const late = await ok(await step(api, auth.id, 'capture'));
    assert.equal(late.status, 'closed');
    assert.equal(late.capturedAmount, 400, 'the default is what was held when it expired');
    assert.deepEqual(await cardBalance(api, card.id), { available: 600, pending: 0 });
    assert.equal((await step(api, auth.id, 'expire')).status, 409);
  });
});

describe('reverse', () => {
  test('partial then full; nothing is released twice', async () => {
    const { card } = await fundedCard(api, 1_000);
    const auth = await approved(api, card.id, 800);
    const partial = await ok(await step(api, auth.id, 'reverse', { amount: 300 }));
    assert.equal(partial.status, 'pending');
    assert.equal(partial.heldAmount, 500);
    assert.deepEqual(await cardBalance(api, card.id), { available: 500, pending: 500 });
    const tooMuch = await step(api, auth.id, 'reverse', { amount: 501 });
    assert.equal(tooMuch.status, 422);
    assert.equal(tooMuch.body.error.code, 'amount_exceeds_hold');
    const full = await ok(await step(api, auth.id, 'reverse'));
    assert.equal(full.status, 'reversed');
    assert.equal(full.heldAmount, 0);
    assert.deepEqual(full.history.map((h: { kind: string; amount: number }) => [h.kind, h.amount]), [['authorization', 800], ['reversal', 300], ['reversal', 500]]);
    assert.deepEqual(await cardBalance(api, card.id), { available: 1_000, pending: 0 });
    for (const action of ['reverse', 'expire'] as const) assert.equal((await step(api, auth.id, action)).body.error.code, 'authorization_not_pending');
    assert.equal((await step(api, auth.id, 'capture')).status, 409);
    assert.equal((await step(api, auth.id, 'increment', { amount: 1 })).status, 409);
  });

  test('a release on a cancelled card sends the freed money back to the debit account', async () => {
    const { card, account } = await fundedCard(api, 1_000);
    const auth = await approved(api, card.id, 400);
    const before = (await balanceOf(api, account.id)).available;
    await ok(await api.request('POST', `/cards/${card.id}/cancel`, { body: {} }));
    assert.equal((await balanceOf(api, account.id)).available, before + 600);
    await ok(await step(api, auth.id, 'reverse'));
    assert.equal((await balanceOf(api, account.id)).available, before + 1_000);
    assert.deepEqual(await cardBalance(api, card.id), { available: 0, pending: 0 });
  });

  test('a partial reversal on a cancelled card keeps the rest held and returns only the released part', async () => {
    const { card, account } = await fundedCard(api, 1_000);
    const auth = await approved(api, card.id, 500);
    await ok(await api.request('POST', `/cards/${card.id}/cancel`, { body: {} }));
    const before = (await balanceOf(api, account.id)).available;
    const partial = await ok(await step(api, auth.id, 'reverse', { amount: 200 }));
    assert.equal(partial.heldAmount, 300);
    assert.equal((await balanceOf(api, account.id)).available, before + 200);
    assert.deepEqual(await cardBalance(api, card.id), { available: 0, pending: 300 });
    // The network may still capture what is held.
    assert.equal((await ok(await step(api, auth.id, 'capture'))).capturedAmount, 300);
    assert.deepEqual(await cardBalance(api, card.id), { available: 0, pending: 0 });
  });
});

describe('refunds and force captures', () => {
  test('a refund credits the card; refunds of a transaction never exceed it', async () => {
    const { card } = await fundedCard(api, 1_000);
    const auth = await approved(api, card.id, 600);
    await ok(await step(api, auth.id, 'capture'));
    const [capture] = await transactionsOf(auth.id);
    const refund = await ok(await api.request('POST', '/simulator/refunds', { body: { cardId: card.id, amount: 250, transactionId: capture.id } }), 201);
    assert.equal(refund.type, 'refund');
    assert.equal(refund.relatedTransactionId, capture.id);
    assert.deepEqual(refund.merchant, MERCHANT);
    assert.deepEqual(await cardBalance(api, card.id), { available: 650, pending: 0 });
    const over = await api.request('POST', '/simulator/refunds', { body: { cardId: card.id, amount: 351, transactionId: capture.id } });
    assert.equal(over.status, 422);
    assert.equal(over.body.error.code, 'refund_exceeds_transaction');
    assert.equal((await api.request('GET', `/transactions/${capture.id}`)).body.data.refundedAmount, 250);
    const ofRefund = await api.request('POST', '/simulator/refunds', { body: { cardId: card.id, amount: 1, transactionId: refund.id } });
    assert.equal(ofRefund.body.error.code, 'transaction_not_refundable');
    // A refund with no transaction (a merchant credit).
    await ok(await api.request('POST', '/simulator/refunds', { body: { cardId: card.id, amount: 50 } }), 201);
    assert.deepEqual(await cardBalance(api, card.id), { available: 700, pending: 0 });
  });

  test('a refund to a cancelled card goes on to its debit account', async () => {
    const { card, account } = await fundedCard(api, 100);
    await ok(await api.request('POST', `/cards/${card.id}/cancel`, { body: {} }));
    const before = (await balanceOf(api, account.id)).available;
    await ok(await api.request('POST', '/simulator/refunds', { body: { cardId: card.id, amount: 75 } }), 201);
    assert.equal((await balanceOf(api, account.id)).available, before + 75);
    assert.deepEqual(await cardBalance(api, card.id), { available: 0, pending: 0 });
  });

  test('a force capture always books: from the card, then as a receivable', async () => {
    const { card } = await fundedCard(api, 500);
    const covered = await ok(await api.request('POST', '/simulator/force-captures', { body: { cardId: card.id, amount: 200, merchant: MERCHANT } }), 201);
    assert.equal(covered.type, 'force_capture');
    assert.equal(covered.authorizationId, null);
    assert.equal(covered.receivableAmount, 0);
    const short = await ok(await api.request('POST', '/simulator/force-captures', { body: { cardId: card.id, amount: 500, merchant: MERCHANT } }), 201);
    assert.equal(short.receivableAmount, 200);
    assert.deepEqual(await cardBalance(api, card.id), { available: 0, pending: 0 });
    const list = await api.request('GET', `/transactions?cardId=${card.id}&type=force_capture`);
    assert.deepEqual(list.body.data.map((t: { id: string }) => t.id), [short.id, covered.id]);
    const missing = await api.request('POST', '/simulator/force-captures', { body: { cardId: 'card_missing', amount: 1, merchant: MERCHANT } });
    assert.equal(missing.status, 404);
  });

  test('transactions of another organization answer 404 and list empty', async () => {
    const { card } = await fundedCard(api, 500);
    const txn = await ok(await api.request('POST', '/simulator/force-captures', { body: { cardId: card.id, amount: 100, merchant: MERCHANT } }), 201);
    const other = await api.otherOrganization();
    assert.equal((await api.request('GET', `/transactions/${txn.id}`, { key: other.apiKey })).status, 404);
    assert.equal((await api.request('GET', `/transactions?cardId=${card.id}`, { key: other.apiKey })).body.data.length, 0);
    for (const path of ['/simulator/refunds', '/simulator/force-captures']) {
      const res = await api.request('POST', path, { key: other.apiKey, body: { cardId: card.id, amount: 1, merchant: MERCHANT } });
      assert.equal(res.status, path.endsWith('refunds') ? 422 : 404, res.text);
    }
    const refund = await api.request('POST', '/simulator/refunds', { key: other.apiKey, body: { cardId: card.id, amount: 1 } });
    assert.equal(refund.status, 404);
  });
});
