// Wrong PINs racing on one card (issue 11): every try counts exactly once under the card lock, so
// however many arrive together, exactly one of them blocks the PIN (one card.pin_blocked event),
// none of them holds money, and the right PIN is refused afterwards.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Harness } from '../support/api.ts';
import { createProgram, issueNameOnlyCard } from '../support/fixtures.ts';
import { POSTGRES_ONLY, accountHolding, assertNoServerErrors, listAll, tally, useConcurrencyHarness } from './support.ts';

const RACERS = 12;
const CARD_FUNDS = 5_000;
const merchant = { name: 'Corner Shop', mcc: '5411', country: 'US' };

describe('concurrent wrong PINs on one card', { skip: POSTGRES_ONLY }, () => {
  let api: Harness;
  useConcurrencyHarness((started) => { api = started; });

  test(`${RACERS} wrong PINs at once: all declined, one block, one event, nothing held`, async (t) => {
    const account = await accountHolding(api, CARD_FUNDS);
    const program = await createProgram(api);
    const issued = await issueNameOnlyCard(api, account, program, CARD_FUNDS);
    assert.equal(issued.status, 201, issued.text);
    const card = issued.body.data;
    const pin = card.lastFour === '3917' ? '3971' : '3917';
    assert.equal((await api.request('PUT', `/cards/${card.id}/pin`, { body: { pin } })).status, 200);

    const responses = await Promise.all(Array.from({ length: RACERS }, () => api.request('POST', '/simulator/authorizations', {
      body: { cardId: card.id, amount: 100, currency: 'USD', merchant, entryMode: 'chip', pin: '6284' },
    })));
    t.diagnostic(`responses: ${JSON.stringify(tally(responses))}`);
    assertNoServerErrors(responses);
    const reasons = responses.map((r) => {
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.data.approved, false);
      return r.body.data.declineReason as string;
    });
    // The first three in lock order are wrong tries (the third blocks); the rest meet a blocked PIN.
    assert.equal(reasons.filter((r) => r === 'incorrect_pin').length, 3, JSON.stringify(reasons));
    assert.equal(reasons.filter((r) => r === 'pin_blocked').length, RACERS - 3, JSON.stringify(reasons));

    const blocked = await listAll(api, `/events?type=card.pin_blocked&resourceId=${card.id}`);
    assert.equal(blocked.length, 1);
    const after = await api.request('GET', `/cards/${card.id}`);
    assert.equal(after.body.data.isPinBlocked, true);
    assert.deepEqual(after.body.data.balance, { available: CARD_FUNDS, pending: 0 });
    const right = await api.request('POST', '/simulator/authorizations', {
      body: { cardId: card.id, amount: 100, currency: 'USD', merchant, entryMode: 'chip', pin },
    });
    assert.equal(right.body.data.declineReason, 'pin_blocked');
  });
});
