// Top-ups and withdrawals racing on one card (issue 3): neither the card nor its debit account is
// ever overdrawn, and card + account always hold exactly what was put in.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Harness } from '../support/api.ts';
import { createProgram, issueNameOnlyCard } from '../support/fixtures.ts';
import { POSTGRES_ONLY, accountHolding, assertNoServerErrors, balanceOf, tally, useConcurrencyHarness } from './support.ts';

const ACCOUNT_FUNDS = 10_000;
const CARD_FUNDS = 3_000;
const REQUESTS = 120;

/** A small deterministic generator, so a failing run can be repeated. */
function seeded(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

describe('concurrent top-ups and withdrawals on one card', { skip: POSTGRES_ONLY }, () => {
  let api: Harness;
  useConcurrencyHarness((started) => { api = started; });

  test(`${REQUESTS} racing top-ups and withdrawals never overdraw and never lose a cent`, async (t) => {
    const account = await accountHolding(api, ACCOUNT_FUNDS);
    const program = await createProgram(api);
    const issued = await issueNameOnlyCard(api, account, program, CARD_FUNDS);
    assert.equal(issued.status, 201, issued.text);
    const card = issued.body.data;
    const random = seeded(20261121);
    const plan = Array.from({ length: REQUESTS }, () => ({ kind: random() < 0.5 ? 'top-up' : 'withdraw', amount: 1 + Math.floor(random() * 900) }));
    const responses = await Promise.all(plan.map((p) => api.request('POST', `/cards/${card.id}/${p.kind}`, { body: { amount: p.amount } })));
    t.diagnostic(`responses: ${JSON.stringify(tally(responses))}`);
    assertNoServerErrors(responses);
    let expectedCard = CARD_FUNDS;
    responses.forEach((r, i) => {
      if (r.status === 200) expectedCard += plan[i].kind === 'top-up' ? plan[i].amount : -plan[i].amount;
      else {
        assert.equal(r.status, 422, r.text);
        assert.equal(r.body.error.code, 'insufficient_funds');
      }
    });
    const cardAfter = (await api.request('GET', `/cards/${card.id}`)).body.data.balance;
    const accountAfter = await balanceOf(api, account.id);
    assert.equal(cardAfter.available, expectedCard);
    assert.ok(cardAfter.available >= 0 && accountAfter.available >= 0);
    assert.equal(cardAfter.available + accountAfter.available, ACCOUNT_FUNDS, 'no cent lost or invented');
    const events = await api.request('GET', `/events?resourceId=${card.id}&limit=100`);
    const moves = responses.filter((r) => r.status === 200).length;
    assert.equal(Math.min(100, moves + 1), events.body.data.length);
  });
});
