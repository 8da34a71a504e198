// GET /cards reads each page in one statement, wallet tokenizations included (issue 10): a listed
// card must be exactly the card GET /cards/:id answers, tokens and their order and dates included,
// on every page of a cursor walk, and no other organization's tokens may appear.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type Harness } from '../support/api.ts';
import { createAccount, createCardHolder } from '../support/fixtures.ts';

let api: Harness;

before(async () => { api = await startHarness(); });
after(async () => { await api.checkLedger(); await api.close(); });

const deliveryAddress = { address1: '1 Market Street', city: 'San Francisco', countryCode: 'US', state: 'CA', postalCode: '94105' };

async function issue(accountId: string, holderId: string, extra: Record<string, unknown> = {}, key?: string) {
  const res = await api.request('POST', '/cards', {
    key, body: { debitAccountId: accountId, cardHolderId: holderId, type: 'virtual', brand: 'Visa', currency: 'USD', amount: 100, ...extra },
  });
  assert.equal(res.status, 201, res.text);
  return res.body.data;
}

async function tokenize(cardId: string, walletType: string, key?: string) {
  const res = await api.request('POST', `/simulator/cards/${cardId}/tokenizations`, { key, body: { walletType } });
  assert.equal(res.status, 201, res.text);
  return res.body.data;
}

/** Every card of the account, page by page (`limit` per page), as GET /cards lists them. */
async function walk(accountId: string, limit: number, sort = '-createdAt') {
  const cards: any[] = [];
  let cursor: string | null = null;
  do {
    const res: any = await api.request('GET', `/cards?accountId=${accountId}&limit=${limit}&sort=${sort}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(res.status, 200, res.text);
    assert.ok(res.body.data.length <= limit);
    cards.push(...res.body.data);
    cursor = res.body.meta.nextCursor;
  } while (cursor);
  return cards;
}

describe('GET /cards shows each card as GET /cards/:id does', () => {
  test('tokens (several, suspended, none), PIN, controls, address and metadata on every page, both orders', async () => {
    const account = await createAccount(api);
    const holder = await createCardHolder(api);
    const plain = await issue(account.id, holder.id);
    const wallets = await issue(account.id, holder.id, { cardPin: '4826', label: 'Travel', metadata: { costCenter: 'CC-1' } });
    const frozen = await issue(account.id, holder.id, { spendControls: { limits: [{ amount: 5000, interval: 'daily' }] } });
    const physical = await issue(account.id, holder.id, { type: 'physical', deliveryAddress, termsAndConditionsAccepted: true, eDisclosureAccepted: true });
    const google = await tokenize(wallets.id, 'google_pay');
    const apple = await tokenize(wallets.id, 'apple_pay');
    await tokenize(frozen.id, 'samsung_pay');
    assert.equal((await api.request('POST', `/cards/${frozen.id}/freeze`)).status, 200);

    const newestFirst = [physical, frozen, wallets, plain].map((c) => c.id);
    for (const [sort, order] of [['-createdAt', newestFirst], ['createdAt', [...newestFirst].reverse()]] as const) {
      const listed = await walk(account.id, 3, sort);
      assert.deepEqual(listed.map((c) => c.id), order);
      for (const card of listed) {
        const read = await api.request('GET', `/cards/${card.id}`);
        assert.equal(read.status, 200, read.text);
        assert.deepEqual(card, read.body.data);
      }
    }
    const listed = await walk(account.id, 100);
    const byId = new Map(listed.map((c) => [c.id, c]));
    assert.deepEqual(byId.get(wallets.id).tokenizations.map((t: any) => t.id), [google.id, apple.id]);
    assert.deepEqual(byId.get(wallets.id).tokenizations[0], google);
    assert.deepEqual(byId.get(frozen.id).tokenizations.map((t: any) => [t.walletType, t.status]), [['samsung_pay', 'suspended']]);
    assert.deepEqual(byId.get(plain.id).tokenizations, []);
    assert.equal(byId.get(wallets.id).isPinSet, true);
    assert.equal(byId.get(physical.id).shipping.status, 'pending');
    // Nullable fields, null and set, as written out (the serializer's nullable rewrite, serialization.ts).
    const shown = byId.get(wallets.id);
    assert.deepEqual([shown.label, shown.cardHolderId, shown.budgetId, shown.cancelledAt, shown.replacesCardId], ['Travel', holder.id, null, null, null]);
    assert.match(shown.activatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual([byId.get(physical.id).activatedAt, byId.get(plain.id).label], [null, null]);
    assert.equal(byId.get(frozen.id).status, 'locked');
    assert.equal(byId.get(physical.id).deliveryAddress.postalCode, '94105');
    assert.deepEqual(byId.get(frozen.id).spendControls.limits, [{ amount: 5000, interval: 'daily' }]);
  });

  test('another organization\'s cards and tokens never appear', async () => {
    const other = await api.otherOrganization();
    const theirAccount = await createAccount(api, {}, other.apiKey);
    const theirHolder = await createCardHolder(api, {}, other.apiKey);
    const theirs = await issue(theirAccount.id, theirHolder.id, {}, other.apiKey);
    await tokenize(theirs.id, 'apple_pay', other.apiKey);
    const account = await createAccount(api);
    const mine = await issue(account.id, (await createCardHolder(api)).id);
    assert.deepEqual((await walk(account.id, 20)).map((c) => [c.id, c.tokenizations]), [[mine.id, []]]);
    const foreign = await api.request('GET', `/cards?accountId=${theirAccount.id}`);
    assert.equal(foreign.status, 200, foreign.text);
    assert.deepEqual(foreign.body.data, []);
    const theirList = await api.request('GET', `/cards?accountId=${theirAccount.id}`, { key: other.apiKey });
    assert.deepEqual(theirList.body.data.map((c: any) => c.tokenizations.length), [1]);
  });
});
