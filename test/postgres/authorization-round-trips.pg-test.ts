// The authorization path's round trips (issue 10): once the process knows the organization's
// settlement account, an authorization is one short transaction of a few statements (see
// bench/PROFILE.md). The app runs in this process, so its statements are counted at the pg
// driver. A statement added to the path fails the count on purpose: say why in PROFILE.md and
// raise the budget, or fold it into another statement. The outcomes around the path (a decline
// whose hold the guarded update refused, a partial approval, another organization's card) are
// checked through the API as well.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Harness } from '../support/api.ts';
import { createAccount, createProgram, issueNameOnlyCard } from '../support/fixtures.ts';
import { authorize } from '../authorizations/support.ts';
import { budgetCard, createBudget } from '../budgets/helpers.ts';
import { POSTGRES_ONLY, accountHolding, balanceOf, statementsDuring, useConcurrencyHarness } from './support.ts';

/**
 * On a plain card (authorizations.repo.ts PLAIN_CARD): BEGIN with lock_timeout, ONE statement (the
 * card lock, the hold, the authorization, the event with its fan-out), COMMIT; the API key comes
 * from the credential cache. Main had 15; 7 before the one statement, 8 before the signature
 * policy joined the credential lookup.
 */
const STATEMENTS_PER_AUTHORIZATION = 3;
const RUNS = 5;
const PROGRAM = { name: 'Other program', brand: 'Visa', bin: '45990000', currency: 'USD', allowNameOnlyIssuance: true, requiresVerifiedCardHolder: false };

/** Sent unanswered: the statement behind BEGIN, COMMIT behind it: one round trip. */
const PIPELINED_PER_AUTHORIZATION = 2;

/** A budget card's path (the rules under the card lock): the card lock behind BEGIN; the event, the hold and COMMIT behind the insert. */
const PIPELINED_PER_BUDGET_AUTHORIZATION = 4;

/**
 * A budget card adds the guarded update of its budget's period counter, in the hold's statement
 * (main had 19; 9 with the budget row's lock and the sum of its period's spend).
 */
const STATEMENTS_PER_BUDGET_AUTHORIZATION = 7;

describe('the authorization path on PostgreSQL', { skip: POSTGRES_ONLY }, () => {
  let api: Harness;
  useConcurrencyHarness((started) => { api = started; });

  test(`an authorization takes at most ${STATEMENTS_PER_AUTHORIZATION} statements, declines and partial approvals stay exact`, async () => {
    const account = await accountHolding(api, 1_000);
    const issued = await issueNameOnlyCard(api, account, await createProgram(api), 10);
    assert.equal(issued.status, 201, issued.text);
    const card = issued.body.data;
    // The organization's first authorization in USD makes the settlement account (full path).
    assert.equal((await authorize(api, card.id, 1)).body.data.approved, true);

    const answers: any[] = [];
    const { statements, pipelined } = await statementsDuring(async () => {
      for (let i = 0; i < RUNS; i++) answers.push(await authorize(api, card.id, 1));
    });
    for (const res of answers) assert.equal(res.body.data.approved, true, res.text);
    assert.ok(statements <= STATEMENTS_PER_AUTHORIZATION * RUNS, `${statements} statements for ${RUNS} authorizations`);
    // Round trips: the statements less those sent in the same flight as an earlier one.
    assert.equal(pipelined, PIPELINED_PER_AUTHORIZATION * RUNS, `${pipelined} of ${statements} statements pipelined`);

    // More than the card holds: the guarded hold refuses, the transaction rolls back, and the
    // decline is stored on its own, with no hold and no change to the card's balance.
    const declined = await authorize(api, card.id, 100);
    assert.equal(declined.status, 201, declined.text);
    assert.equal(declined.body.data.approved, false);
    assert.equal(declined.body.data.declineReason, 'insufficient_funds');
    assert.equal(declined.body.data.heldAmount, 0);
    const afterDecline = (await api.request('GET', `/cards/${card.id}`)).body.data.balance;
    assert.deepEqual(afterDecline, { available: 10 - 1 - RUNS, pending: 1 + RUNS });

    // A terminal that accepts less gets exactly what is left.
    const partial = await authorize(api, card.id, 100, { partialApprovalSupported: true });
    assert.equal(partial.body.data.approved, true, partial.text);
    assert.equal(partial.body.data.heldAmount, 10 - 1 - RUNS);
    assert.deepEqual((await api.request('GET', `/cards/${card.id}`)).body.data.balance, { available: 0, pending: 10 });
    const events = await api.request('GET', `/events?resourceId=${declined.body.data.id}`);
    assert.deepEqual(events.body.data.map((e: { type: string }) => e.type), ['authorization.created']);

    // The lock query is scoped by organization: once the other organization's own authorization
    // has made its settlement account (so its next one takes the short path), this org's card is
    // a 404 to it, exactly like a card that does not exist.
    const other = await api.otherOrganization();
    const key = other.apiKey;
    const otherAccount = await createAccount(api, {}, key);
    const otherProgram = await api.request('POST', '/card-programs', { key, body: PROGRAM });
    const otherCard = await api.request('POST', '/cards', {
      key, body: { debitAccountId: otherAccount.id, firstName: 'Ada', lastName: 'Lovelace', type: 'virtual', currency: 'USD', typeId: otherProgram.body.data.id, amount: 0 },
    });
    assert.equal(otherCard.status, 201, otherCard.text);
    assert.equal((await authorize(api, otherCard.body.data.id, 1, {}, key)).status, 201);
    const foreign = await authorize(api, card.id, 1, {}, key);
    assert.equal(foreign.status, 404, foreign.text);
    assert.equal(foreign.body.error.code, 'not_found');
  });

  test(`a budget card's authorization takes at most ${STATEMENTS_PER_BUDGET_AUTHORIZATION} statements; the budget and the account still decide`, async () => {
    const account = await accountHolding(api, 5);
    const budget = await createBudget(api, account.id, { limit: { amount: 4, interval: 'monthly' } });
    const card = await budgetCard(api, budget, await createProgram(api));
    // The period's first spender makes its counter row from the ledger (three statements, once).
    assert.equal((await authorize(api, card.id, 1)).body.data.approved, true);
    const { statements, pipelined } = await statementsDuring(async () => {
      for (let i = 0; i < 3; i++) assert.equal((await authorize(api, card.id, 1)).body.data.approved, true);
    });
    assert.ok(statements <= STATEMENTS_PER_BUDGET_AUTHORIZATION * 3, `${statements} statements for 3 authorizations`);
    // The budget's counter rides in the hold's statement, in the same flight as COMMIT.
    assert.equal(pipelined, PIPELINED_PER_BUDGET_AUTHORIZATION * 3, `${pipelined} of ${statements} statements pipelined`);
    const over = await authorize(api, card.id, 1);
    assert.equal(over.body.data.declineReason, 'budget_exceeded', over.text);
    // The limit rises past the account's funds: now the account's guarded hold refuses.
    const raised = await api.request('PATCH', `/budgets/${budget.id}`, { body: { limit: { amount: 100, interval: 'monthly' } } });
    assert.equal(raised.status, 200, raised.text);
    const short = await authorize(api, card.id, 2);
    assert.equal(short.body.data.declineReason, 'insufficient_funds', short.text);
    assert.deepEqual(await balanceOf(api, account.id), { available: 1, pending: 4, posted: 5 });
  });
});
