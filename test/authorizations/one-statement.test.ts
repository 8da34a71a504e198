// The one-statement path (authorizations.service.ts authorizeInOneStatement): once this process
// knows the organization's settlement account, an authorization on a plain card is one statement
// that locks the card, holds the money and stores the authorization and its event. Its conditions
// are in SQL (authorizations.repo.ts PLAIN_CARD), so each case here is the FIRST authorization of
// a fresh card with the settlement account already known: what the statement must not approve
// reaches the rules and gets their answer, with nothing held.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/platform/clock.ts';
import { onPostgres, startHarness, testDatabaseUrl, type Harness } from '../support/api.ts';
import { createAccount, createCardHolder, createProgram, issueNameOnlyCard, issueNameOnlyCards } from '../support/fixtures.ts';
import { sample, scrape } from '../support/metrics.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { budgetCard, createBudget } from '../budgets/helpers.ts';
import { approved, authorize, cardBalance, fundedCard } from './support.ts';

let api: Harness;
let receiver: Receiver;
before(async () => {
  api = await startHarness({ config: { workers: false } });
  receiver = await startReceiver();
  // The organization's first authorization in each currency makes its settlement account: from
  // here on every authorization in USD and EUR tries the one statement first.
  const { card } = await fundedCard(api, 10);
  await approved(api, card.id, 1);
  const euros = await createAccount(api, { currency: 'EUR' });
  const euroCard = await issueNameOnlyCard(api, euros, await createProgram(api, { currency: 'EUR' }), 10, { currency: 'EUR' });
  assert.equal(euroCard.status, 201, euroCard.text);
  await approved(api, euroCard.body.data.id, 1, { currency: 'EUR' });
});
after(async () => {
  await receiver.close();
  try { await api.checkLedger(); } finally { await api.close(); }
});

const PATHS = ['one_statement', 'under_lock', 'in_steps', 'replayed'];

/** What `send` answered, asserting that GET /metrics counted it on `path` (and on no other). */
async function on<T>(path: string, send: () => Promise<T>, harness = api): Promise<T> {
  const before = await scrape(harness);
  const result = await send();
  const after = await scrape(harness);
  const count = (text: string, path: string) => sample(text, 'paygen_authorization_paths_total', { path });
  const moved = PATHS.filter((p) => count(after, p) !== count(before, p));
  assert.deepEqual(moved, [path], 'the path that answered');
  return result;
}

/** Approved by the one statement. */
const inOneStatement = (cardId: string, amount: number, extra: Record<string, unknown> = {}, harness = api) =>
  on('one_statement', () => approved(harness, cardId, amount, extra), harness);

/** Declined by `path` (by default the rules under the card lock, behind the statement that refused). */
async function declinedWithNothingHeld(cardId: string, amount: number, reason: string, extra: Record<string, unknown> = {}, path = 'under_lock') {
  const before = await cardBalance(api, cardId);
  const res = await on(path, () => authorize(api, cardId, amount, extra));
  assert.equal(res.status, 201, res.text);
  assert.equal(res.body.data.approved, false, res.text);
  assert.equal(res.body.data.declineReason, reason, res.text);
  assert.equal(res.body.data.heldAmount, 0);
  assert.deepEqual(await cardBalance(api, cardId), before);
  const events = await api.request('GET', `/events?resourceId=${res.body.data.id}`);
  assert.deepEqual(events.body.data.map((e: { type: string }) => e.type), ['authorization.created']);
}

describe('an approval in one statement', () => {
  test('answers, stores and announces the same authorization, with the holder and the program\'s hold lifetime', async () => {
    const webhook = await api.request('POST', '/webhooks', { body: { url: `${receiver.url}/events`, events: ['authorization.created'], description: 'one statement' } });
    assert.equal(webhook.status, 201, webhook.text);
    const account = await createAccount(api);
    const holder = await createCardHolder(api);
    const program = await createProgram(api, { holdTtlHours: 48 });
    const issued = await api.request('POST', '/cards', {
      body: { debitAccountId: account.id, cardHolderId: holder.id, type: 'virtual', currency: 'USD', typeId: program.id, amount: 1_000, termsAndConditionsAccepted: true, eDisclosureAccepted: true },
    });
    assert.equal(issued.status, 201, issued.text);
    const card = issued.body.data;

    const auth = await inOneStatement(card.id, 250, { networkId: 'net-one-statement' });
    assert.equal(Date.parse(auth.expiresAt) - Date.parse(auth.createdAt), 48 * 3600_000);
    assert.equal(auth.decisionSource, 'rules');
    assert.deepEqual(auth.history.map((h: { kind: string; amount: number; approved: boolean }) => [h.kind, h.amount, h.approved]), [['authorization', 250, true]]);
    assert.deepEqual((await api.request('GET', `/authorizations/${auth.id}`)).body.data, auth);
    const events = await api.request('GET', `/events?resourceId=${auth.id}`);
    assert.equal(events.body.data.length, 1);
    assert.equal(events.body.data[0].sequence, 1);
    assert.deepEqual(events.body.data[0].data, auth);
    const deliveries = await api.request('GET', `/events/${events.body.data[0].id}/deliveries`);
    assert.equal(deliveries.status, 200, deliveries.text);
    assert.deepEqual(deliveries.body.data.map((d: { webhookId: string }) => d.webhookId), [webhook.body.data.id]);
    assert.deepEqual(await cardBalance(api, card.id), { available: 750, pending: 250 });

    // The same network message again: the stored answer, and still one hold.
    const again = await on('replayed', () => authorize(api, card.id, 250, { networkId: 'net-one-statement' }));
    assert.equal(again.status, 201, again.text);
    assert.equal(again.body.data.id, auth.id);
    assert.deepEqual(await cardBalance(api, card.id), { available: 750, pending: 250 });
    assert.equal((await api.request('DELETE', `/webhooks/${webhook.body.data.id}`)).status, 200);

    // The row names the card's holder: a limit the holder gets later counts this spend.
    const limited = await api.request('PATCH', `/card-holders/${holder.id}`, { body: { spendControls: { limits: [{ amount: 300, interval: 'monthly' }] } } });
    assert.equal(limited.status, 200, limited.text);
    await declinedWithNothingHeld(card.id, 100, 'spend_limit_exceeded');
    await on('under_lock', () => approved(api, card.id, 50));
  });

  test('a digital card (shipped, not yet activated) pays online at once, and in person not at all', async () => {
    const account = await createAccount(api);
    const holder = await createCardHolder(api);
    const program = await createProgram(api);
    const body = {
      debitAccountId: account.id, cardHolderId: holder.id, type: 'physical', currency: 'USD', typeId: program.id, amount: 1_000,
      termsAndConditionsAccepted: true, eDisclosureAccepted: true,
      deliveryAddress: { address1: '123 Main St', city: 'San Francisco', countryCode: 'US', state: 'CA', postalCode: '94105' },
    };
    const cards = [];
    for (let i = 0; i < 2; i++) {
      const issued = await api.request('POST', '/cards', { body });
      assert.equal(issued.status, 201, issued.text);
      assert.equal((await api.request('POST', `/simulator/cards/${issued.body.data.id}/ship`)).body.data.status, 'digital');
      cards.push(issued.body.data);
    }
    await inOneStatement(cards[0].id, 100, { entryMode: 'ecommerce' });
    await declinedWithNothingHeld(cards[1].id, 100, 'card_not_active', { entryMode: 'chip' });
  });
});

test('an Idempotency-Key replays the answer of the one statement, and of the rules\' path behind it', async () => {
  const { card } = await fundedCard(api, 100);
  const send = (amount: number, key: string) => api.request('POST', '/simulator/authorizations', {
    headers: { 'idempotency-key': key },
    body: { cardId: card.id, amount, currency: 'USD', merchant: { name: 'Shop', mcc: '5812', city: 'Paris', country: 'FR', id: 'm1' }, entryMode: 'ecommerce' },
  });
  const first = await on('one_statement', () => send(60, 'one-statement-approved'));
  assert.equal(first.body.data.approved, true, first.text);
  const replayed = await send(60, 'one-statement-approved');
  assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(replayed.body.data, first.body.data);
  const declined = await on('under_lock', () => send(60, 'one-statement-declined'));
  assert.equal(declined.body.data.declineReason, 'insufficient_funds', declined.text);
  const again = await send(60, 'one-statement-declined');
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(again.body.data, declined.body.data);
  assert.deepEqual(await cardBalance(api, card.id), { available: 40, pending: 60 });
});

test('a process that died after the one statement committed: the retry answers with that authorization', async () => {
  const { card } = await fundedCard(api, 100);
  const key = `one-statement-crash-${Date.now()}`;
  const send = () => api.request('POST', '/simulator/authorizations', {
    headers: { 'idempotency-key': key },
    body: { cardId: card.id, amount: 30, currency: 'USD', merchant: { name: 'Shop', mcc: '5812', city: 'Paris', country: 'FR', id: 'm1' }, entryMode: 'ecommerce' },
  });
  const first = await on('one_statement', send);
  assert.equal(first.body.data.approved, true, first.text);
  // The key as a process that died right after COMMIT leaves it: the effect and the transaction's
  // result committed, no response stored, the lease over.
  const left = await api.app.ctx.db.query(
    `UPDATE idempotency_keys SET state = 'committed', status_code = NULL, response_body = NULL, locked_until = now() - interval '1 second'
      WHERE organization_id = $1 AND key = $2 RETURNING key`, [api.organizationId, key]);
  assert.equal(left.length, 1);
  const retried = await send();
  assert.equal(retried.status, 201, retried.text);
  assert.equal(retried.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(retried.body.data, first.body.data);
  assert.deepEqual(await cardBalance(api, card.id), { available: 70, pending: 30 });
});

describe('what the statement does not approve reaches the rules', () => {
  test('a card that cannot pay: frozen, not yet shipped, cancelled', async () => {
    const { card: frozen } = await fundedCard(api, 1_000);
    assert.equal((await api.request('POST', `/cards/${frozen.id}/freeze`)).status, 200);
    await declinedWithNothingHeld(frozen.id, 100, 'card_not_active');
    const { card: cancelled } = await fundedCard(api, 1_000);
    assert.equal((await api.request('POST', `/cards/${cancelled.id}/cancel`, { body: {} })).status, 200);
    await declinedWithNothingHeld(cancelled.id, 100, 'card_not_active');
  });

  test('another currency than the card\'s, with that currency\'s settlement account known', async () => {
    const { card } = await fundedCard(api, 1_000);
    await declinedWithNothingHeld(card.id, 100, 'currency_mismatch', { currency: 'EUR' });
  });

  test('spend controls of the card, of its program and of its holder', async () => {
    const { card: blocked } = await fundedCard(api, 1_000, { card: { spendControls: { blockedCategories: ['5812'] } } });
    await declinedWithNothingHeld(blocked.id, 100, 'category_blocked');
    const { card: limited } = await fundedCard(api, 1_000, { program: { defaultSpendControls: { limits: [{ amount: 50, interval: 'per_transaction' }] } } });
    await declinedWithNothingHeld(limited.id, 51, 'spend_limit_exceeded');
    const holder = await createCardHolder(api, { spendControls: { blockedCountries: ['US'] } });
    const account = await createAccount(api);
    const issued = await api.request('POST', '/cards', {
      body: { debitAccountId: account.id, cardHolderId: holder.id, type: 'virtual', currency: 'USD', typeId: (await createProgram(api)).id, amount: 1_000, termsAndConditionsAccepted: true, eDisclosureAccepted: true },
    });
    assert.equal(issued.status, 201, issued.text);
    await declinedWithNothingHeld(issued.body.data.id, 100, 'country_blocked');
  });

  test('a card whose controls are lifted is approved again', async () => {
    const { card } = await fundedCard(api, 1_000, { card: { spendControls: { blockedCategories: ['5812'] } } });
    await declinedWithNothingHeld(card.id, 100, 'category_blocked');
    const lifted = await api.request('PATCH', `/cards/${card.id}`, { body: { spendControls: null } });
    assert.equal(lifted.status, 200, lifted.text);
    // The card is remembered as not plain for a minute: the rules approve it meanwhile.
    await on('under_lock', () => approved(api, card.id, 100));
  });

  test('funds: too little declines with nothing held; a terminal that accepts less gets what is there', async () => {
    const { card } = await fundedCard(api, 100);
    await declinedWithNothingHeld(card.id, 101, 'insufficient_funds');
    const { card: partial } = await fundedCard(api, 100);
    const res = await on('under_lock', () => authorize(api, partial.id, 150, { partialApprovalSupported: true }));
    assert.equal(res.body.data.approved, true, res.text);
    assert.equal(res.body.data.approvedAmount, 100);
    assert.deepEqual(await cardBalance(api, partial.id), { available: 0, pending: 100 });
  });

  test('a budget card: its budget decides', async () => {
    const account = await createAccount(api);
    const budget = await createBudget(api, account.id, { limit: { amount: 100, interval: 'monthly' } });
    const card = await budgetCard(api, budget, await createProgram(api));
    await declinedWithNothingHeld(card.id, 101, 'budget_exceeded');
    await on('under_lock', () => approved(api, card.id, 100));
  });

  test('a program with a decision webhook is asked, and its answer stands', async () => {
    const program = await createProgram(api, { authorizationWebhook: { url: `${receiver.url}/decide`, timeoutMs: 2_000, fallback: 'decline' } });
    receiver.secret = program.authorizationWebhook.secret;
    const cards = await issueNameOnlyCards(api, await createAccount(api), program, 2, 1_000);
    const asked = receiver.requests.length;
    receiver.answer({ json: { approved: false } });
    await declinedWithNothingHeld(cards[0].id, 100, 'webhook_declined', {}, 'in_steps');
    receiver.answer({ json: { approved: true } });
    const auth = await on('in_steps', () => approved(api, cards[1].id, 100));
    assert.equal(auth.decisionSource, 'webhook');
    assert.equal(receiver.requests.length, asked + 2);
  });
});

/**
 * A harness whose database sessions run in Europe/Berlin, where daylight saving ends on the last
 * Sunday of October: a month added to a timestamptz there is an hour longer. PostgreSQL: every
 * connection of the app gets the setting; PGlite: its one session does.
 */
async function berlinHarness(clock: ManualClock) {
  const url = testDatabaseUrl();
  const zone = onPostgres() ? { databaseUrl: `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent('-c TimeZone=Europe/Berlin')}` } : {};
  const harness = await startHarness({ clock, config: { workers: false, ...zone } });
  if (!onPostgres()) await harness.app.ctx.db.exec(`SET TimeZone = 'Europe/Berlin'`);
  const [setting] = await harness.app.ctx.db.query<{ zone: string }>(`SELECT current_setting('TimeZone') AS zone`);
  assert.equal(setting.zone, 'Europe/Berlin');
  return harness;
}

test('expiry ends with the expiry month in UTC, whatever the database session\'s time zone', async () => {
  const clock = new ManualClock(new Date('2026-10-15T12:00:00Z'));
  const timed = await berlinHarness(clock);
  try {
    const validForAYear = { program: { cardValidityYears: 1 } };
    const { card: first } = await fundedCard(timed, 10, validForAYear);
    await approved(timed, first.id, 1); // makes the settlement account
    const { card: last } = await fundedCard(timed, 1_000, validForAYear);
    const { card: next } = await fundedCard(timed, 1_000, validForAYear);
    assert.deepEqual(last.expiry, { month: 10, year: 2027 });
    const moveTo = (at: string) => clock.advance(Date.parse(at) - clock.now().getTime());
    moveTo('2027-10-31T23:59:59.999Z');
    await inOneStatement(last.id, 100, {}, timed);
    moveTo('2027-11-01T00:30:00.000Z');
    const res = await on('under_lock', () => authorize(timed, next.id, 100), timed);
    assert.equal(res.body.data.declineReason, 'card_expired', res.text);
    assert.deepEqual(await cardBalance(timed, next.id), { available: 1_000, pending: 0 });
    await timed.checkLedger();
  } finally {
    await timed.close();
  }
});
