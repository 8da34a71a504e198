// Amounts are bounded and counters never overflow. A request amount above MAX_AMOUNT is a 422
// invalid_amount wherever amounts enter; a movement that would take a ledger counter past 2^53 − 1
// is a 422 amount_limit_exceeded that changes nothing, and the currency keeps working afterwards.
// 9,008 deposits of MAX_AMOUNT would be too slow, so the house accounts are brought near the bound
// with one consistent ledger transfer each: the ledger check still holds, and its sums pass 2^53.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import type { ApiError } from '../../src/platform/errors.ts';
import { MAX_AMOUNT, MAX_COUNTER } from '../../src/platform/money.ts';
import * as ledger from '../../src/modules/ledger/ledger.service.ts';
import { startHarness, type Harness, type Response } from '../support/api.ts';
import { balanceOf, createAccount } from '../support/fixtures.ts';
import { approved, authorize, cardBalance, fundedCard, MERCHANT, step } from '../authorizations/support.ts';

let api: Harness;
before(async () => { api = await startHarness(); });
after(async () => { await api.checkLedger(); await api.close(); });

const OVER = MAX_AMOUNT + 1;

function expectError(res: Response, status: number, code: string, what: string) {
  assert.equal(res.status, status, `${what}: ${res.text}`);
  assert.equal(res.body.error.code, code, what);
  assert.equal(res.body.data, null);
}

describe('MAX_AMOUNT bounds every amount that enters', () => {
  test(`${OVER} is 422 invalid_amount everywhere; ${MAX_AMOUNT} is accepted`, async () => {
    const { account, program, card } = await fundedCard(api, 5_000);
    const other = await createAccount(api);
    const auth = await approved(api, card.id, 1_000);
    const capture = await api.request('POST', '/simulator/force-captures', { body: { cardId: card.id, amount: 100, merchant: MERCHANT } });
    assert.equal(capture.status, 201, capture.text);
    const budgetBody = { accountId: account.id, name: 'Ads', currency: 'USD' };
    const newCard = { debitAccountId: account.id, firstName: 'Ada', lastName: 'Lovelace', type: 'virtual', currency: 'USD', typeId: program.id };
    const requests: [string, string, Record<string, unknown>][] = [
      ['POST', `/simulator/accounts/${account.id}/deposits`, { amount: OVER }],
      ['POST', '/transfers', { fromAccountId: account.id, toAccountId: other.id, amount: OVER, currency: 'USD' }],
      ['POST', '/cards', { ...newCard, amount: OVER }],
      ['POST', '/cards', { ...newCard, initialBalance: OVER }],
      ['POST', `/cards/${card.id}/top-up`, { amount: OVER }],
      ['POST', `/cards/${card.id}/withdraw`, { amount: OVER }],
      ['POST', '/simulator/authorizations', { cardId: card.id, amount: OVER, currency: 'USD', merchant: MERCHANT, entryMode: 'ecommerce' }],
      ['POST', `/simulator/authorizations/${auth.id}/increment`, { amount: OVER }],
      ['POST', `/simulator/authorizations/${auth.id}/capture`, { amount: OVER }],
      ['POST', `/simulator/authorizations/${auth.id}/reverse`, { amount: OVER }],
      ['POST', '/simulator/refunds', { cardId: card.id, amount: OVER, transactionId: capture.body.data.id }],
      ['POST', '/simulator/force-captures', { cardId: card.id, amount: OVER, merchant: MERCHANT }],
      ['POST', '/budgets', { ...budgetBody, limit: { amount: OVER, interval: 'monthly' } }],
      ['PATCH', `/cards/${card.id}`, { spendControls: { limits: [{ amount: OVER, interval: 'daily' }] } }],
      ['POST', '/card-programs', { name: 'Too big', brand: 'Visa', bin: '45990000', currency: 'USD', allowNameOnlyIssuance: true, defaultSpendControls: { limits: [{ amount: OVER, interval: 'daily' }] } }],
    ];
    const accountBefore = await balanceOf(api, account.id);
    const cardBefore = await cardBalance(api, card.id);
    for (const [method, path, body] of requests) {
      const res = await api.request(method, path, { body });
      expectError(res, 422, 'invalid_amount', `${method} ${path} ${JSON.stringify(body)}`);
    }
    assert.deepEqual(await balanceOf(api, account.id), accountBefore, 'nothing moved');
    assert.deepEqual(await cardBalance(api, card.id), cardBefore);
    assert.equal((await api.request('GET', `/authorizations/${auth.id}`)).body.data.heldAmount, 1_000);

    // The bound itself is a valid amount.
    const deposit = await api.request('POST', `/simulator/accounts/${account.id}/deposits`, { body: { amount: MAX_AMOUNT } });
    assert.equal(deposit.status, 201, deposit.text);
    const budget = await api.request('POST', '/budgets', { body: { ...budgetBody, limit: { amount: MAX_AMOUNT, interval: 'monthly' } } });
    assert.equal(budget.status, 201, budget.text);
    const funded = await api.request('POST', '/cards', { body: { ...newCard, amount: MAX_AMOUNT } });
    assert.equal(funded.status, 201, funded.text);
    assert.equal(funded.body.data.balance.available, MAX_AMOUNT);
  });

  test('the OpenAPI document states the maximum', async () => {
    const doc = await api.request('GET', '/openapi.json');
    assert.match(doc.text, new RegExp(`"maximum":\\s*${MAX_AMOUNT}\\b`));
  });
});

/** Brings a house account's counter near MAX_COUNTER with one balanced transfer between two house accounts. */
async function fillHouse(debit: ledger.HouseKind, credit: ledger.HouseKind, headroom: number, side: 'debit' | 'credit') {
  const db = api.app.ctx.db;
  const at = new Date();
  await db.transaction(async (tx) => {
    const debitId = await ledger.houseAccount(tx, api.organizationId, debit, 'USD', at);
    const creditId = await ledger.houseAccount(tx, api.organizationId, credit, 'USD', at);
    const target = await ledger.getAccount(tx, side === 'debit' ? debitId : creditId);
    const used = side === 'debit' ? target.debits_posted : target.credits_posted;
    await ledger.transfer(tx, {
      organizationId: api.organizationId, debitAccountId: debitId, creditAccountId: creditId,
      amount: MAX_COUNTER - headroom - used, currency: 'USD', code: 'test_fill', at,
    });
  });
}

async function houseCounters(kind: ledger.HouseKind) {
  const [row] = await api.app.ctx.db.query<Record<string, unknown>>(
    `SELECT debits_pending::text, debits_posted::text, credits_pending::text, credits_posted::text
       FROM ledger_accounts WHERE organization_id = $1 AND kind = $2 AND currency = 'USD' AND owner_id IS NULL`,
    [api.organizationId, kind],
  );
  return row;
}

async function entriesOf(accountId: string) {
  return (await api.request('GET', `/accounts/${accountId}/entries?limit=100`)).body.data.length as number;
}

describe('counters never pass 2^53 − 1', () => {
  test('a deposit that would pass the bound is 422 amount_limit_exceeded and changes nothing; the currency keeps working', async () => {
    const account = await createAccount(api);
    const headroom = MAX_AMOUNT / 2;
    await fillHouse(ledger.HOUSE.deposits, ledger.HOUSE.disputes, headroom, 'debit');
    const house = await houseCounters(ledger.HOUSE.deposits);
    const balance = await balanceOf(api, account.id);
    const entries = await entriesOf(account.id);
    const events = (await api.request('GET', `/events?resourceId=${account.id}&limit=100`)).body.data.length;

    const refused = await api.request('POST', `/simulator/accounts/${account.id}/deposits`, { body: { amount: MAX_AMOUNT } });
    expectError(refused, 422, 'amount_limit_exceeded', 'deposit past the bound');
    assert.deepEqual(await houseCounters(ledger.HOUSE.deposits), house, 'the house account did not move');
    assert.deepEqual(await balanceOf(api, account.id), balance);
    assert.equal(await entriesOf(account.id), entries);
    assert.equal((await api.request('GET', `/events?resourceId=${account.id}&limit=100`)).body.data.length, events);

    // What fits still goes through, and so does everything else in the currency.
    const fits = await api.request('POST', `/simulator/accounts/${account.id}/deposits`, { body: { amount: headroom / 2 } });
    assert.equal(fits.status, 201, fits.text);
    const fresh = await createAccount(api);
    assert.equal((await balanceOf(api, fresh.id)).available, 10_000_000, 'a new account gets its opening deposit');
    const { card } = await fundedCard(api, 10_000);
    const auth = await approved(api, card.id, 2_000);
    assert.equal((await step(api, auth.id, 'capture')).status, 200);
    const forced = await api.request('POST', '/simulator/force-captures', { body: { cardId: card.id, amount: 1_000, merchant: MERCHANT } });
    assert.equal(forced.status, 201, forced.text);
    await api.checkLedger();
  });

  test('a capture or force capture that would pass the bound is 422 and leaves the hold and the card as they were', async () => {
    const { card } = await fundedCard(api, 50_000);
    const auth = await approved(api, card.id, 20_000);
    await fillHouse(ledger.HOUSE.receivables, ledger.HOUSE.settlement, 10_000, 'credit');
    const settlement = await houseCounters(ledger.HOUSE.settlement);

    const capture = await step(api, auth.id, 'capture');
    expectError(capture, 422, 'amount_limit_exceeded', 'capture past the bound');
    const still = (await api.request('GET', `/authorizations/${auth.id}`)).body.data;
    assert.deepEqual([still.status, still.heldAmount, still.capturedAmount], ['pending', 20_000, 0]);
    assert.deepEqual(await cardBalance(api, card.id), { available: 30_000, pending: 20_000 });
    const forced = await api.request('POST', '/simulator/force-captures', { body: { cardId: card.id, amount: 10_001, merchant: MERCHANT } });
    expectError(forced, 422, 'amount_limit_exceeded', 'force capture past the bound');
    assert.deepEqual(await houseCounters(ledger.HOUSE.settlement), settlement);
    assert.equal((await api.request('GET', `/transactions?cardId=${card.id}`)).body.data.length, 0);

    // A smaller capture fits, then a force capture of what is left; the next unit is refused.
    const partial = await step(api, auth.id, 'capture', { amount: 6_000 });
    assert.equal(partial.status, 200, partial.text);
    assert.deepEqual(await cardBalance(api, card.id), { available: 44_000, pending: 0 });
    const exact = await api.request('POST', '/simulator/force-captures', { body: { cardId: card.id, amount: 4_000, merchant: MERCHANT } });
    assert.equal(exact.status, 201, exact.text);
    assert.equal((await houseCounters(ledger.HOUSE.settlement)).credits_posted, String(MAX_COUNTER));
    const one = await authorize(api, card.id, 1);
    assert.equal(one.body.data.approved, true, 'a hold still fits: it is pending, not posted');
    expectError(await step(api, one.body.data.id, 'capture'), 422, 'amount_limit_exceeded', 'one unit past the bound');
    assert.equal((await step(api, one.body.data.id, 'reverse')).status, 200, 'the hold can still be released');
    await api.checkLedger();
  });

  // The two tests above left the deposits and receivables house accounts near the bound.
  test('the ledger check adds counters past 2^53 without losing a unit', async () => {
    const totals = await api.app.ctx.db.query<{ total: string }>(
      `SELECT SUM(debits_posted)::text AS total FROM ledger_accounts WHERE organization_id = $1 AND currency = 'USD'`,
      [api.organizationId],
    );
    assert.ok(BigInt(totals[0].total) > BigInt(Number.MAX_SAFE_INTEGER), 'the sums really pass 2^53 here');
    assert.deepEqual(await ledger.check(api.app.ctx.db, api.organizationId), { ok: true, problems: [] });
    // And it still notices a difference of one unit at that size.
    const [row] = await api.app.ctx.db.query<{ id: string }>(
      `SELECT id FROM ledger_accounts WHERE organization_id = $1 AND kind = $2 AND currency = 'USD' AND owner_id IS NULL`,
      [api.organizationId, ledger.HOUSE.disputes],
    );
    await api.app.ctx.db.query('UPDATE ledger_accounts SET credits_posted = credits_posted - 1 WHERE id = $1', [row.id]);
    const broken = await ledger.check(api.app.ctx.db, api.organizationId);
    await api.app.ctx.db.query('UPDATE ledger_accounts SET credits_posted = credits_posted + 1 WHERE id = $1', [row.id]);
    assert.equal(broken.ok, false);
    assert.ok(broken.problems.some((p) => p.startsWith('USD: posted debits')), broken.problems.join('\n'));
  });

  test('the database refuses an out-of-range counter even if a guard were missed', async () => {
    const account = await createAccount(api);
    const [row] = await api.app.ctx.db.query<{ ledger_account_id: string }>('SELECT ledger_account_id FROM accounts WHERE id = $1', [account.id]);
    await assert.rejects(
      api.app.ctx.db.query('UPDATE ledger_accounts SET credits_posted = $2 WHERE id = $1', [row.ledger_account_id, String(MAX_COUNTER + 1)]),
      (error: { code?: string; constraint?: string }) => error.code === '23514' && /_within_limit$/.test(error.constraint ?? ''),
    );
  });
});

test('the sandbox opening balance is an amount like any other: at most MAX_AMOUNT', () => {
  assert.equal(loadConfig({ PAYGEN_SANDBOX_OPENING_BALANCE: String(MAX_AMOUNT) }).sandboxOpeningBalance, MAX_AMOUNT);
  assert.throws(() => loadConfig({ PAYGEN_SANDBOX_OPENING_BALANCE: String(OVER) }), (error: ApiError) => error.code === 'invalid_configuration');
});
