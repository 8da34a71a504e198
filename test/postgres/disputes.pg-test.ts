// Disputes under races (issue 11): one open dispute per transaction however many ask at once; a
// dispute submits and resolves once; and refunds racing a won dispute never pay the same money
// twice: the card gets back exactly the transaction amount, whatever the interleaving.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Harness } from '../support/api.ts';
import { createProgram, issueNameOnlyCard } from '../support/fixtures.ts';
import { approved, cardBalance, step } from '../authorizations/support.ts';
import { POSTGRES_ONLY, accountHolding, assertNoServerErrors, tally, useConcurrencyHarness } from './support.ts';

const RACERS = 8;

describe('disputes under concurrency', { skip: POSTGRES_ONLY }, () => {
  let api: Harness;
  useConcurrencyHarness((started) => { api = started; });

  /** A card holding `funds` after a capture of `amount`, and that capture. */
  async function capturedOnCard(funds: number, amount: number) {
    const account = await accountHolding(api, funds + amount);
    const issued = await issueNameOnlyCard(api, account, await createProgram(api), funds + amount);
    assert.equal(issued.status, 201, issued.text);
    const auth = await approved(api, issued.body.data.id, amount);
    assert.equal((await step(api, auth.id, 'capture')).status, 200);
    const [txn] = (await api.request('GET', `/transactions?authorizationId=${auth.id}`)).body.data;
    return { card: issued.body.data, txn };
  }

  const open = (transactionId: string) =>
    api.request('POST', '/disputes', { body: { transactionId, reason: 'fraudulent', explanation: 'Not me.' } });

  test(`${RACERS} racing disputes of one transaction: exactly one opens`, async (t) => {
    const { txn } = await capturedOnCard(0, 1_000);
    const responses = await Promise.all(Array.from({ length: RACERS }, () => open(txn.id)));
    t.diagnostic(JSON.stringify(tally(responses)));
    assertNoServerErrors(responses);
    assert.deepEqual(tally(responses), { 201: 1, '409:dispute_already_open': RACERS - 1 });
    assert.equal((await api.request('GET', `/disputes?transactionId=${txn.id}`)).body.data.length, 1);
  });

  test('racing submits and resolutions move the money once', async (t) => {
    const { card, txn } = await capturedOnCard(0, 1_000);
    const dispute = (await open(txn.id)).body.data;
    const submits = await Promise.all(Array.from({ length: RACERS }, () => api.request('POST', `/disputes/${dispute.id}/submit`)));
    assertNoServerErrors(submits);
    assert.deepEqual(tally(submits), { 200: 1, '409:dispute_already_submitted': RACERS - 1 });
    const outcomes = Array.from({ length: RACERS }, (_, i) => (i % 2 ? 'lost' : 'won'));
    const resolutions = await Promise.all(outcomes.map((outcome) =>
      api.request('POST', `/simulator/disputes/${dispute.id}/resolve`, { body: { outcome } })));
    t.diagnostic(JSON.stringify(tally(resolutions)));
    assertNoServerErrors(resolutions);
    assert.deepEqual(tally(resolutions), { 200: 1, '409:dispute_not_submitted': RACERS - 1 });
    const final = (await api.request('GET', `/disputes/${dispute.id}`)).body.data;
    assert.equal((await cardBalance(api, card.id)).available, final.status === 'won' ? 1_000 : 0);
  });

  test('refunds racing a won dispute: the card gets back exactly the amount charged, never more', async (t) => {
    const { card, txn } = await capturedOnCard(0, 1_000);
    const dispute = (await open(txn.id)).body.data;
    assert.equal((await api.request('POST', `/disputes/${dispute.id}/submit`)).status, 200);
    const requests = [
      api.request('POST', `/simulator/disputes/${dispute.id}/resolve`, { body: { outcome: 'won' } }),
      ...Array.from({ length: RACERS }, () => api.request('POST', '/simulator/refunds', { body: { cardId: card.id, amount: 300, transactionId: txn.id } })),
    ];
    const responses = await Promise.all(requests);
    t.diagnostic(JSON.stringify(tally(responses)));
    assertNoServerErrors(responses);
    const [resolution, ...refunds] = responses;
    assert.equal(resolution.status, 200, resolution.text);
    const refunded = refunds.filter((r) => r.status === 201).length * 300;
    for (const r of refunds.filter((x) => x.status !== 201)) assert.equal(r.body.error.code, 'refund_exceeds_transaction', r.text);
    const credited = resolution.body.data.creditedAmount;
    assert.equal(refunded + credited, 1_000, `refunded ${refunded} + credited ${credited}`);
    assert.equal((await cardBalance(api, card.id)).available, 1_000);
  });
});
