// Wallet tokenizations: the simulator enrols cards in Apple Pay, Google Pay and Samsung Pay; the
// tokens follow their card (locked/suspended → suspended, back → resumed, cancelled/expired/
// rejected → terminated), with events; cards that are pending or ended cannot be enrolled.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as tokenizations from '../../src/modules/tokenizations/tokenizations.service.ts';
import { MAX_TOKENIZATIONS_PER_CARD } from '../../src/modules/tokenizations/tokenizations.service.ts';
import { startHarness, type Harness } from '../support/api.ts';
import { createAccount, createCardHolder, createProgram } from '../support/fixtures.ts';

let api: Harness;
let accountId: string;
let holderId: string;

before(async () => {
  api = await startHarness();
  accountId = (await createAccount(api)).id;
  holderId = (await createCardHolder(api)).id;
});
after(async () => { await api.checkLedger(); await api.close(); });

async function issueCard(extra: Record<string, unknown> = {}) {
  const res = await api.request('POST', '/cards', { body: { debitAccountId: accountId, cardHolderId: holderId, type: 'virtual', brand: 'Visa', currency: 'USD', amount: 100, ...extra } });
  assert.equal(res.status, 201, res.text);
  return res.body.data;
}

const tokenize = (cardId: string, body: Record<string, unknown>, key?: string) => api.request('POST', `/simulator/cards/${cardId}/tokenizations`, { body, key });

async function created(cardId: string, body: Record<string, unknown>) {
  const res = await tokenize(cardId, body);
  assert.equal(res.status, 201, res.text);
  return res.body.data;
}

async function statuses(cardId: string) {
  const res = await api.request('GET', `/cards/${cardId}/tokenizations?sort=createdAt`);
  assert.equal(res.status, 200, res.text);
  return res.body.data.map((t: any) => t.status);
}

/** The card-status hook, called the way the status machine will: inside its transaction. */
const follow = (cardId: string, status: string) =>
  api.app.ctx.db.transaction((tx) => tokenizations.followCardStatus(tx, api.organizationId, cardId, status, api.app.ctx.clock.now()));

describe('POST /simulator/cards/:id/tokenizations and GET /cards/:id/tokenizations', () => {
  test('each wallet: 201 completed by default, a DPAN reference, a wallet id for Google Pay only, an event', async () => {
    const card = await issueCard();
    const apple = await created(card.id, { walletType: 'apple_pay' });
    assert.match(apple.id, /^wtok_[0-9a-z]{26}$/);
    assert.deepEqual(Object.keys(apple).sort(), ['cardId', 'createdAt', 'dpanRef', 'id', 'status', 'updatedAt', 'walletId', 'walletType']);
    assert.equal(apple.cardId, card.id);
    assert.equal(apple.status, 'completed');
    assert.equal(apple.walletId, null);
    assert.match(apple.dpanRef, /^DPAN[0-9A-F]{20}$/);
    const google = await created(card.id, { walletType: 'google_pay' });
    assert.match(google.walletId, /^[0-9A-F]{24}$/);
    const samsung = await created(card.id, { walletType: 'samsung_pay', status: 'initiated' });
    assert.equal(samsung.status, 'initiated');
    assert.equal(samsung.walletId, null);
    assert.notEqual(apple.dpanRef, google.dpanRef);

    const list = await api.request('GET', `/cards/${card.id}/tokenizations`);
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.data.map((t: any) => t.id), [samsung.id, google.id, apple.id], 'newest first');
    assert.deepEqual(list.body.data[2], apple);
    assert.equal(list.body.meta.hasMore, false);
    const filtered = await api.request('GET', `/cards/${card.id}/tokenizations?walletType=google_pay&status=completed`);
    assert.deepEqual(filtered.body.data.map((t: any) => t.id), [google.id]);
    assert.deepEqual(filtered.body.meta.filters, { status: 'completed', walletType: 'google_pay' });
    const paged = await api.request('GET', `/cards/${card.id}/tokenizations?limit=2`);
    assert.equal(paged.body.meta.hasMore, true);
    const rest = await api.request('GET', `/cards/${card.id}/tokenizations?limit=2&cursor=${paged.body.meta.nextCursor}`);
    assert.deepEqual(rest.body.data.map((t: any) => t.id), [apple.id]);

    const events = await api.request('GET', `/events?resourceId=${apple.id}`);
    assert.deepEqual(events.body.data.map((e: any) => e.type), ['tokenization.created']);
    assert.deepEqual(events.body.data[0].data, apple);
    assert.equal(events.body.data[0].resource, 'tokenization');
  });

  test('malformed bodies are 422 validation_failed and create nothing', async () => {
    const card = await issueCard();
    for (const body of [{}, { walletType: 'APPLE_PAY' }, { walletType: 'paypal' }, { walletType: 'apple_pay', status: 'suspended' }, { walletType: 'apple_pay', walletId: 'x' }]) {
      const res = await tokenize(card.id, body);
      assert.equal(res.status, 422, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.error.code, 'validation_failed');
    }
    assert.deepEqual(await statuses(card.id), []);
  });

  test('pending, rejected, cancelled and expired cards cannot be enrolled: 409 card_not_usable', async () => {
    const review = await createProgram(api, { issuanceReview: true, allowNameOnlyIssuance: false, requiresVerifiedCardHolder: true });
    const pending = await issueCard({ typeId: review.id });
    assert.equal(pending.status, 'pending');
    const rejected = await issueCard({ typeId: review.id });
    assert.equal((await api.request('PATCH', `/simulator/cards/${rejected.id}/fail`)).status, 200);
    const cancelled = await issueCard();
    assert.equal((await api.request('POST', `/cards/${cancelled.id}/cancel`)).status, 200);
    const expired = await issueCard();
    assert.equal((await api.request('POST', `/simulator/cards/${expired.id}/expire`)).status, 200);
    for (const card of [pending, rejected, cancelled, expired]) {
      const res = await tokenize(card.id, { walletType: 'apple_pay' });
      assert.equal(res.status, 409, res.text);
      assert.equal(res.body.error.code, 'card_not_usable');
      assert.deepEqual(await statuses(card.id), []);
    }
    // Once issued, the pending card can be enrolled.
    assert.equal((await api.request('PATCH', `/simulator/cards/${pending.id}/issue`)).status, 202);
    assert.equal((await tokenize(pending.id, { walletType: 'apple_pay' })).status, 201);
  });

  test(`a card has at most ${MAX_TOKENIZATIONS_PER_CARD} tokenizations: 409 too_many_tokenizations`, async () => {
    const card = await issueCard();
    for (let i = 0; i < MAX_TOKENIZATIONS_PER_CARD; i++) await created(card.id, { walletType: 'apple_pay' });
    const res = await tokenize(card.id, { walletType: 'google_pay' });
    assert.equal(res.status, 409, res.text);
    assert.equal(res.body.error.code, 'too_many_tokenizations');
    assert.equal((await api.request('GET', `/cards/${card.id}/tokenizations?limit=100`)).body.data.length, MAX_TOKENIZATIONS_PER_CARD);
  });

  test('another organization\'s card, or no card, is 404 not_found on both routes', async () => {
    const card = await issueCard();
    await created(card.id, { walletType: 'apple_pay' });
    const other = await api.otherOrganization();
    for (const [method, path, body] of [['POST', `/simulator/cards/${card.id}/tokenizations`, { walletType: 'apple_pay' }], ['GET', `/cards/${card.id}/tokenizations`, undefined]] as const) {
      const theirs = await api.request(method, path, { key: other.apiKey, body });
      assert.equal(theirs.status, 404, theirs.text);
      assert.equal(theirs.body.error.code, 'not_found');
      const absent = await api.request(method, path.replace(card.id, `${card.id.slice(0, -8)}00000000`), { body });
      assert.equal(absent.status, 404);
      assert.equal(absent.body.message, theirs.body.message);
    }
    assert.equal((await statuses(card.id)).length, 1);
  });
});

describe('tokens follow their card (followCardStatus, as the status machine calls it)', () => {
  test('locked → live tokens suspended; active → each back to what it was; events carry the previous status', async () => {
    const card = await issueCard();
    const completed = await created(card.id, { walletType: 'apple_pay' });
    const initiated = await created(card.id, { walletType: 'google_pay', status: 'initiated' });
    const changed = await follow(card.id, 'locked');
    assert.deepEqual(changed.map((t) => [t.id, t.status]).sort(), [[completed.id, 'suspended'], [initiated.id, 'suspended']].sort());
    assert.deepEqual(await statuses(card.id), ['suspended', 'suspended']);
    assert.deepEqual(await follow(card.id, 'suspended'), [], 'already suspended: nothing changes, no event');

    const resumed = await follow(card.id, 'active');
    assert.equal(resumed.length, 2);
    assert.deepEqual(await statuses(card.id), ['completed', 'initiated']);
    assert.deepEqual(await follow(card.id, 'active'), [], 'nothing left to resume');

    const events = await api.request('GET', `/events?resourceId=${completed.id}&sort=createdAt`);
    assert.deepEqual(events.body.data.map((e: any) => [e.type, e.data.status, e.previousAttributes?.status ?? null]), [
      ['tokenization.created', 'completed', null],
      ['tokenization.updated', 'suspended', 'completed'],
      ['tokenization.updated', 'completed', 'suspended'],
    ]);
    assert.deepEqual(events.body.data.map((e: any) => e.sequence), [1, 2, 3]);
  });

  test('cancelled, expired or rejected → every token terminated, for good', async () => {
    for (const ending of ['cancelled', 'expired', 'rejected']) {
      const card = await issueCard();
      await created(card.id, { walletType: 'apple_pay' });
      await created(card.id, { walletType: 'samsung_pay', status: 'initiated' });
      await follow(card.id, 'locked');
      const ended = await follow(card.id, ending);
      assert.equal(ended.length, 2, ending);
      assert.deepEqual(await statuses(card.id), ['terminated', 'terminated'], ending);
      assert.deepEqual(await follow(card.id, 'active'), [], `${ending}: terminated tokens never come back`);
      assert.deepEqual(await statuses(card.id), ['terminated', 'terminated']);
    }
  });

  test('a token made while its card is locked starts suspended and resumes with the card', async () => {
    const card = await issueCard();
    assert.equal((await api.request('POST', `/cards/${card.id}/freeze`)).status, 200);
    const token = await created(card.id, { walletType: 'apple_pay' });
    assert.equal(token.status, 'suspended');
    await follow(card.id, 'active');
    assert.deepEqual(await statuses(card.id), ['completed']);
  });

  test('a status change rolled back rolls the tokens back too (same transaction)', async () => {
    const card = await issueCard();
    await created(card.id, { walletType: 'apple_pay' });
    await assert.rejects(api.app.ctx.db.transaction(async (tx) => {
      await tokenizations.followCardStatus(tx, api.organizationId, card.id, 'cancelled', api.app.ctx.clock.now());
      throw new Error('the status change failed');
    }), /the status change failed/);
    assert.deepEqual(await statuses(card.id), ['completed']);
  });

  test('listForCards maps every asked card to its tokens (none → empty), scoped to the organization', async () => {
    const withTokens = await issueCard();
    const without = await issueCard();
    const token = await created(withTokens.id, { walletType: 'apple_pay' });
    const map = await tokenizations.listForCards(api.app.ctx.db, api.organizationId, [withTokens.id, without.id]);
    assert.deepEqual(map.get(withTokens.id), [token]);
    assert.deepEqual(map.get(without.id), []);
    const other = await api.otherOrganization();
    const foreign = await tokenizations.listForCards(api.app.ctx.db, other.organizationId, [withTokens.id]);
    assert.deepEqual(foreign.get(withTokens.id), []);
    assert.equal((await tokenizations.listForCards(api.app.ctx.db, api.organizationId, [])).size, 0);
  });
});

describe('through the card API (once the status machine calls followCardStatus)', () => {
  test('freeze suspends, unfreeze resumes, cancel terminates; the card shows its tokens', async () => {
    const card = await issueCard();
    await created(card.id, { walletType: 'apple_pay' });
    assert.equal((await api.request('POST', `/cards/${card.id}/freeze`)).status, 200);
    assert.deepEqual(await statuses(card.id), ['suspended']);
    assert.equal((await api.request('POST', `/cards/${card.id}/unfreeze`)).status, 200);
    assert.deepEqual(await statuses(card.id), ['completed']);
    assert.equal((await api.request('POST', `/simulator/cards/${card.id}/suspend`)).status, 200);
    assert.deepEqual(await statuses(card.id), ['suspended']);
    assert.equal((await api.request('POST', `/simulator/cards/${card.id}/reinstate`)).status, 200);
    assert.deepEqual(await statuses(card.id), ['completed']);
    const read = await api.request('GET', `/cards/${card.id}`);
    assert.deepEqual(read.body.data.tokenizations.map((t: any) => t.status), ['completed']);
    assert.equal((await api.request('DELETE', `/cards/${card.id}`)).status, 200);
    assert.deepEqual(await statuses(card.id), ['terminated']);
  });
});
