// The seed gaps of issue 11: GET /cards filters (externalId, cardHolderId), seed 004's
// POST /accounts/:id/cards, the required initial balance, PIN verification at the point of sale
// with its 3-try block, renewal of expiring and expired cards, and programs that demand KYC
// documents. One harness for the file; every step checks status, codes, money and events.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type Harness } from '../support/api.ts';
import { balanceOf, createAccount, createCardHolder, createProgram } from '../support/fixtures.ts';
import { eventTypes, multipart, PNG } from '../card-holders/helpers.ts';

let api: Harness;
let account: { id: string };
let other: { apiKey: string; organizationId: string };

before(async () => {
  api = await startHarness();
  account = await createAccount(api);
  other = await api.otherOrganization();
});
after(async () => { await api.checkLedger(); await api.close(); });

const merchant = { name: 'Corner Shop', mcc: '5411', country: 'US' };

async function issue(extra: Record<string, unknown> = {}, holder?: { id: string }) {
  const owner = holder ?? await createCardHolder(api);
  const res = await api.request('POST', '/cards', {
    body: { debitAccountId: account.id, cardHolderId: owner.id, type: 'virtual', brand: 'Visa', currency: 'USD', amount: 1_000, ...extra },
  });
  assert.equal(res.status, 201, res.text);
  return res.body.data;
}

function authorize(cardId: string, extra: Record<string, unknown> = {}, key?: string) {
  return api.request('POST', '/simulator/authorizations', { key, body: { cardId, amount: 100, currency: 'USD', merchant, entryMode: 'chip', ...extra } });
}

async function card(id: string) {
  const res = await api.request('GET', `/cards/${id}`);
  assert.equal(res.status, 200, res.text);
  return res.body.data;
}

async function events(type: string, resourceId: string) {
  const res = await api.request('GET', `/events?type=${type}&resourceId=${resourceId}&limit=100`);
  assert.equal(res.status, 200, res.text);
  return res.body.data;
}

describe('GET /cards filters', () => {
  test('externalId (exact) and cardHolderId (or customerId) pick the right cards, in this organization only', async () => {
    const holder = await createCardHolder(api);
    const tagged = await issue({ externalId: 'emp-7-travel', amount: 0 }, holder);
    const sibling = await issue({ externalId: 'emp-7-travel-2', amount: 0 }, holder);
    await issue({ externalId: 'emp-8-travel', amount: 0 });

    const byExternal = await api.request('GET', '/cards?externalId=emp-7-travel');
    assert.equal(byExternal.status, 200, byExternal.text);
    assert.deepEqual(byExternal.body.data.map((c: any) => c.id), [tagged.id]);
    assert.equal(byExternal.body.meta.filters.externalId, 'emp-7-travel');

    const byHolder = await api.request('GET', `/cards?cardHolderId=${holder.id}`);
    assert.deepEqual(byHolder.body.data.map((c: any) => c.id), [sibling.id, tagged.id]);
    const byCustomer = await api.request('GET', `/cards?customerId=${holder.id}`);
    assert.deepEqual(byCustomer.body.data.map((c: any) => c.id), [sibling.id, tagged.id]);
    const both = await api.request('GET', `/cards?cardHolderId=${holder.id}&externalId=emp-7-travel-2`);
    assert.deepEqual(both.body.data.map((c: any) => c.id), [sibling.id]);

    const clash = await api.request('GET', `/cards?cardHolderId=${holder.id}&customerId=ch_other`);
    assert.equal(clash.status, 422, clash.text);
    assert.equal(clash.body.error.code, 'validation_failed');
    const tooLong = await api.request('GET', `/cards?externalId=${'x'.repeat(41)}`);
    assert.equal(tooLong.status, 422, tooLong.text);

    for (const query of ['externalId=emp-7-travel', `cardHolderId=${holder.id}`]) {
      const foreign = await api.request('GET', `/cards?${query}`, { key: other.apiKey });
      assert.equal(foreign.status, 200, foreign.text);
      assert.deepEqual(foreign.body.data, [], query);
    }
  });
});

describe('POST /accounts/:id/cards (seed 004)', () => {
  test('issues a card funded by the path account, like POST /cards, with idempotency', async () => {
    const funding = await createAccount(api, { name: 'Seed 004 funding' });
    const before = (await balanceOf(api, funding.id)).available;
    const holder = await createCardHolder(api);
    const body = { cardHolderId: holder.id, type: 'virtual', brand: 'Visa', currency: 'USD', amount: 2_500, externalId: 'seed-004' };
    const headers = { 'Idempotency-Key': `acc-card-${funding.id}` };
    const res = await api.request('POST', `/accounts/${funding.id}/cards`, { body, headers });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.data.debitAccountId, funding.id);
    assert.equal(res.body.data.balance.available, 2_500);
    assert.equal((await balanceOf(api, funding.id)).available, before - 2_500);
    assert.deepEqual(await eventTypes(api, res.body.data.id), ['card.created']);

    const replay = await api.request('POST', `/accounts/${funding.id}/cards`, { body, headers });
    assert.equal(replay.status, 201, replay.text);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(replay.body.data.id, res.body.data.id);
    assert.equal((await balanceOf(api, funding.id)).available, before - 2_500, 'the replay debits nothing');
  });

  test('refusals: the account is the path\'s (no debitAccountId), another organization\'s is 404, rules as POST /cards', async () => {
    const funding = await createAccount(api, { name: 'Refusals' });
    const before = (await balanceOf(api, funding.id)).available;
    const holder = await createCardHolder(api);
    const body = { cardHolderId: holder.id, type: 'virtual', brand: 'Visa', currency: 'USD', amount: 100 };

    const withAccount = await api.request('POST', `/accounts/${funding.id}/cards`, { body: { ...body, debitAccountId: funding.id } });
    assert.equal(withAccount.status, 422, withAccount.text);
    assert.equal(withAccount.body.error.code, 'validation_failed');

    const foreign = await api.request('POST', `/accounts/${funding.id}/cards`, { key: other.apiKey, body });
    assert.equal(foreign.status, 404, foreign.text);
    assert.equal(foreign.body.error.code, 'not_found');
    const unknown = await api.request('POST', '/accounts/acc_01jd0000000000000000000000/cards', { body });
    assert.equal(unknown.status, 404, unknown.text);

    const broke = await api.request('POST', `/accounts/${funding.id}/cards`, { body: { ...body, amount: before + 1 } });
    assert.equal(broke.status, 422, broke.text);
    assert.equal(broke.body.error.code, 'insufficient_funds');
    const euro = await api.request('POST', `/accounts/${funding.id}/cards`, { body: { ...body, currency: 'EUR' } });
    assert.equal(euro.status, 422, euro.text);
    assert.equal(euro.body.error.code, 'currency_mismatch');
    const noAmount = await api.request('POST', `/accounts/${funding.id}/cards`, { body: { ...body, amount: undefined } });
    assert.equal(noAmount.status, 422, noAmount.text);
    assert.equal(noAmount.body.error.details[0].field, 'amount');

    assert.equal((await balanceOf(api, funding.id)).available, before, 'no refusal moved money');
    const cards = await api.request('GET', `/cards?accountId=${funding.id}`);
    assert.deepEqual(cards.body.data, [], 'no refusal left a card');
  });
});

describe('initial balance (seed 002)', () => {
  test('a card states its initial balance: missing is 422, 0 opens an empty card, negative or decimal is refused', async () => {
    const funding = await createAccount(api, { name: 'Initial balance' });
    const before = (await balanceOf(api, funding.id)).available;
    const holder = await createCardHolder(api);
    const body = { debitAccountId: funding.id, cardHolderId: holder.id, type: 'virtual', brand: 'Visa', currency: 'USD' };

    const missing = await api.request('POST', '/cards', { body });
    assert.equal(missing.status, 422, missing.text);
    assert.equal(missing.body.error.code, 'validation_failed');
    assert.equal(missing.body.error.details[0].field, 'amount');
    for (const amount of [-1, 1.5, '100']) {
      const bad = await api.request('POST', '/cards', { body: { ...body, amount } });
      assert.equal(bad.status, 422, `${amount}: ${bad.text}`);
    }
    assert.equal((await balanceOf(api, funding.id)).available, before);
    assert.deepEqual((await api.request('GET', `/cards?accountId=${funding.id}`)).body.data, []);

    const empty = await api.request('POST', '/cards', { body: { ...body, amount: 0 } });
    assert.equal(empty.status, 201, empty.text);
    assert.equal(empty.body.data.balance.available, 0);
    const alias = await api.request('POST', '/cards', { body: { ...body, initialBalance: 300 } });
    assert.equal(alias.status, 201, alias.text);
    assert.equal(alias.body.data.balance.available, 300);
    assert.equal((await balanceOf(api, funding.id)).available, before - 300);
  });
});

describe('PIN verification at the point of sale', () => {
  /** A 4-digit PIN the rules accept for this card (not its last four). */
  const pinFor = (c: { lastFour: string }) => (c.lastFour === '3917' ? '3971' : '3917');
  const wrongFor = (pin: string) => (pin === '3917' ? '6284' : '6248');

  test('right PIN approves; wrong PINs decline and count; the third blocks; a new PIN unblocks', async () => {
    const c = await issue();
    const pin = pinFor(c);
    const wrong = wrongFor(pin);
    assert.equal((await api.request('PUT', `/cards/${c.id}/pin`, { body: { pin } })).status, 200);
    assert.equal(c.isPinBlocked, false);

    const right = await authorize(c.id, { pin });
    assert.equal(right.status, 201, right.text);
    assert.equal(right.body.data.approved, true);
    assert.equal(right.body.data.heldAmount, 100);

    // Two wrong, then right: the count resets, so two more wrong do not block.
    for (let i = 0; i < 2; i++) {
      const no = await authorize(c.id, { pin: wrong });
      assert.equal(no.status, 201, no.text);
      assert.equal(no.body.data.approved, false);
      assert.equal(no.body.data.declineReason, 'incorrect_pin');
      assert.equal(no.body.data.heldAmount, 0);
      assert.ok(!no.text.includes(wrong), 'the PIN is never echoed');
    }
    assert.equal((await authorize(c.id, { pin })).body.data.approved, true);
    assert.equal((await card(c.id)).balance.available, 1_000 - 200, 'declines held nothing');

    // A repeated network message is one try, not two.
    const first = await authorize(c.id, { pin: wrong, networkId: `pin-dup-${c.id}` });
    const again = await authorize(c.id, { pin: wrong, networkId: `pin-dup-${c.id}` });
    assert.equal(again.body.data.id, first.body.data.id);
    assert.equal((await authorize(c.id, { pin: wrong })).body.data.declineReason, 'incorrect_pin');
    assert.equal((await card(c.id)).isPinBlocked, false, 'two tries so far');
    assert.deepEqual(await events('card.pin_blocked', c.id), []);

    const third = await authorize(c.id, { pin: wrong, entryMode: 'contactless' });
    assert.equal(third.body.data.declineReason, 'incorrect_pin');
    const blocked = await card(c.id);
    assert.equal(blocked.isPinBlocked, true);
    assert.equal(blocked.status, 'active', 'only the PIN is blocked, not the card');
    const [event] = await events('card.pin_blocked', c.id);
    assert.deepEqual(event.data, { cardId: c.id, isPinBlocked: true, failedAttempts: 3, blockedAt: event.createdAt, authorizationId: third.body.data.id });
    assert.ok(!JSON.stringify(event).includes(wrong));

    const rightButBlocked = await authorize(c.id, { pin });
    assert.equal(rightButBlocked.body.data.declineReason, 'pin_blocked');
    const noPin = await authorize(c.id, { entryMode: 'ecommerce' });
    assert.equal(noPin.body.data.approved, true, 'payments without a PIN are not affected');

    const fresh = pin === '3917' ? '5082' : '5028';
    assert.equal((await api.request('PUT', `/cards/${c.id}/pin`, { body: { pin: fresh } })).status, 200);
    assert.equal((await card(c.id)).isPinBlocked, false);
    assert.equal((await authorize(c.id, { pin })).body.data.declineReason, 'incorrect_pin', 'the old PIN is gone');
    assert.equal((await authorize(c.id, { pin: fresh })).body.data.approved, true, 'a new PIN starts with a fresh count');
  });

  test('refusals: PIN only on card-present entry, 4 digits, no PIN set, an unusable card counts nothing, tenancy', async () => {
    const c = await issue();
    const ecommerce = await authorize(c.id, { pin: '3917', entryMode: 'ecommerce' });
    assert.equal(ecommerce.status, 422, ecommerce.text);
    assert.equal(ecommerce.body.error.code, 'validation_failed');
    assert.equal(ecommerce.body.error.details[0].field, 'pin');
    for (const pin of ['123', '12345', '12a4', 1234]) {
      const bad = await authorize(c.id, { pin });
      assert.equal(bad.status, 422, `${pin}: ${bad.text}`);
    }
    const unset = await authorize(c.id, { pin: '3917' });
    assert.equal(unset.body.data.declineReason, 'pin_not_set');

    const pin = pinFor(c);
    await api.request('PUT', `/cards/${c.id}/pin`, { body: { pin } });
    assert.equal((await api.request('POST', `/cards/${c.id}/freeze`)).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await authorize(c.id, { pin: wrongFor(pin) })).body.data.declineReason, 'card_not_active');
    await api.request('POST', `/cards/${c.id}/unfreeze`);
    assert.equal((await card(c.id)).isPinBlocked, false, 'a frozen card\'s declines did not count');
    assert.equal((await authorize(c.id, { pin })).body.data.approved, true);

    const foreign = await authorize(c.id, { pin }, other.apiKey);
    assert.equal(foreign.status, 404, foreign.text);
    assert.equal(foreign.body.error.code, 'not_found');
  });
});

describe('renewal (POST /cards/:id/replace, reason expired)', () => {
  async function tokenize(cardId: string) {
    const res = await api.request('POST', `/simulator/cards/${cardId}/tokenizations`, { body: { walletType: 'apple_pay' } });
    assert.equal(res.status, 201, res.text);
    return res.body.data;
  }

  test('an expiring card: a new number and expiry, its balance and wallet tokens move; the old one is cancelled', async () => {
    const old = await issue({ amount: 1_500 });
    const token = await tokenize(old.id);
    const res = await api.request('POST', `/cards/${old.id}/replace`, { body: { reason: 'expired' } });
    assert.equal(res.status, 201, res.text);
    const renewed = res.body.data;
    assert.notEqual(renewed.id, old.id);
    assert.equal(renewed.status, 'active');
    assert.equal(renewed.replacesCardId, old.id);
    assert.equal(renewed.balance.available, 1_500);
    assert.ok(renewed.expiry.year * 12 + renewed.expiry.month >= old.expiry.year * 12 + old.expiry.month);
    assert.deepEqual(renewed.tokenizations.map((t: any) => [t.id, t.cardId, t.status]), [[token.id, renewed.id, 'completed']]);

    const before = await card(old.id);
    assert.equal(before.status, 'cancelled');
    assert.equal(before.balance.available, 0);
    assert.deepEqual(before.tokenizations, []);
    const [moved] = await events('tokenization.updated', token.id);
    assert.equal(moved.previousAttributes.cardId, old.id);
    assert.equal(moved.data.cardId, renewed.id);

    // The token pays for the renewed card.
    assert.equal((await authorize(renewed.id, { entryMode: 'contactless' })).body.data.approved, true);
  });

  test('a lost card\'s wallet tokens end instead of moving', async () => {
    const old = await issue({ amount: 200 });
    const token = await tokenize(old.id);
    const res = await api.request('POST', `/cards/${old.id}/replace`, { body: { reason: 'lost' } });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.body.data.tokenizations, []);
    assert.equal(res.body.data.balance.available, 200);
    const tokens = await api.request('GET', `/cards/${old.id}/tokenizations`);
    assert.deepEqual(tokens.body.data.map((t: any) => [t.id, t.status]), [[token.id, 'terminated']]);
  });

  test('an expired card is renewed (only with reason expired), once; it starts empty, its balance went home at expiry', async () => {
    const funding = await createAccount(api, { name: 'Renewal' });
    const holder = await createCardHolder(api);
    const opening = (await balanceOf(api, funding.id)).available;
    const res = await api.request('POST', '/cards', {
      body: { debitAccountId: funding.id, cardHolderId: holder.id, type: 'virtual', brand: 'Visa', currency: 'USD', amount: 700 },
    });
    const old = res.body.data;
    assert.equal((await api.request('POST', `/simulator/cards/${old.id}/expire`)).status, 200);
    assert.equal((await balanceOf(api, funding.id)).available, opening, 'the balance went back at expiry');

    for (const reason of ['lost', 'damaged']) {
      const refused = await api.request('POST', `/cards/${old.id}/replace`, { body: { reason } });
      assert.equal(refused.status, 409, refused.text);
      assert.equal(refused.body.error.code, 'invalid_status_transition');
    }
    const renewal = await api.request('POST', `/cards/${old.id}/replace`, { body: { reason: 'expired' } });
    assert.equal(renewal.status, 201, renewal.text);
    assert.equal(renewal.body.data.status, 'active');
    assert.equal(renewal.body.data.balance.available, 0);
    assert.equal(renewal.body.data.cardHolderId, holder.id);
    assert.equal((await card(old.id)).status, 'expired', 'an expired card stays expired');
    assert.equal((await card(old.id)).replacedByCardId, renewal.body.data.id);
    assert.equal((await balanceOf(api, funding.id)).available, opening, 'no money moved');

    const twice = await api.request('POST', `/cards/${old.id}/replace`, { body: { reason: 'expired' } });
    assert.equal(twice.status, 409, twice.text);
    assert.equal(twice.body.error.code, 'card_already_replaced');
    const foreign = await api.request('POST', `/cards/${renewal.body.data.id}/replace`, { key: other.apiKey, body: { reason: 'expired' } });
    assert.equal(foreign.status, 404, foreign.text);
  });
});

describe('programs that demand KYC documents', () => {
  let program: { id: string };
  before(async () => {
    program = await createProgram(api, { requiresVerifiedCardHolder: true, allowNameOnlyIssuance: true, requiredDocuments: ['idDocumentFront', 'selfie'] });
  });
  const issueUnder = (holderId: string, funding = account.id) => api.request('POST', '/cards', {
    body: { debitAccountId: funding, cardHolderId: holderId, type: 'virtual', currency: 'USD', typeId: program.id, amount: 100 },
  });

  test('pending until the documents are in, in_review until the KYC review, then cards can be issued', async () => {
    assert.deepEqual((await api.request('GET', `/card-programs/${program.id}`)).body.data.requiredDocuments, ['idDocumentFront', 'selfie']);
    const holder = await createCardHolder(api, { programId: program.id });
    assert.equal(holder.programId, program.id);
    assert.equal(holder.kycStatus, 'pending');
    assert.match(holder.kycReason, /idDocumentFront, selfie/);

    const funding = await createAccount(api, { name: 'KYC documents' });
    const before = (await balanceOf(api, funding.id)).available;
    const early = await issueUnder(holder.id, funding.id);
    assert.equal(early.status, 422, early.text);
    assert.equal(early.body.error.code, 'card_holder_not_verified');

    const front = await api.request('POST', `/card-holders/${holder.id}/documents`, { form: multipart({}, [{ field: 'idDocumentFront', bytes: PNG, type: 'image/png' }]) });
    assert.equal(front.status, 201, front.text);
    assert.equal(front.body.data.kycStatus, 'pending');
    assert.match(front.body.data.kycReason, /selfie/);
    assert.doesNotMatch(front.body.data.kycReason, /idDocumentFront/);

    const selfie = await api.request('POST', `/card-holders/${holder.id}/documents`, { form: multipart({}, [{ field: 'selfie', bytes: PNG, type: 'image/png' }]) });
    assert.equal(selfie.body.data.kycStatus, 'in_review');
    const [kycEvent] = await events('card_holder.kyc_updated', holder.id);
    assert.equal(kycEvent.data.kycStatus, 'in_review');
    assert.equal(kycEvent.previousAttributes.kycStatus, 'pending');
    const inReview = await api.request('GET', '/card-holders?kycStatus=in_review');
    assert.ok(inReview.body.data.some((h: any) => h.id === holder.id));

    const stillEarly = await issueUnder(holder.id, funding.id);
    assert.equal(stillEarly.body.error.code, 'card_holder_not_verified');
    assert.equal((await balanceOf(api, funding.id)).available, before, 'refusals moved no money');

    const review = await api.request('POST', `/simulator/card-holders/${holder.id}/kyc`, { body: { status: 'verified' } });
    assert.equal(review.body.data.kycStatus, 'verified');
    const issued = await issueUnder(holder.id, funding.id);
    assert.equal(issued.status, 201, issued.text);
    assert.equal((await balanceOf(api, funding.id)).available, before - 100);
  });

  test('documents sent with the holder go straight to in_review; refusals at issuance', async () => {
    const fields = { firstName: 'Ada', lastName: 'Byron', email: 'ada@example.com', addressLine1: '1 Main St', city: 'Austin', state: 'TX', postalCode: '73301', country: 'US', programId: program.id };
    const files = [{ field: 'idDocumentFront', bytes: PNG, type: 'image/png' }, { field: 'selfie', bytes: PNG, type: 'image/png' }];
    const direct = await api.request('POST', '/card-holders', { form: multipart(fields, files) });
    assert.equal(direct.status, 201, direct.text);
    assert.equal(direct.body.data.kycStatus, 'in_review');
    const rejected = await api.request('POST', `/simulator/card-holders/${direct.body.data.id}/kyc`, { body: { status: 'rejected', reason: 'document_forged' } });
    assert.equal(rejected.body.data.kycStatus, 'rejected');
    assert.equal((await issueUnder(direct.body.data.id)).body.error.code, 'card_holder_rejected');

    // Verified without documents (no program named): refused until it uploads them.
    const plain = await createCardHolder(api);
    assert.equal(plain.kycStatus, 'verified');
    const noDocs = await issueUnder(plain.id);
    assert.equal(noDocs.status, 422, noDocs.text);
    assert.equal(noDocs.body.error.code, 'kyc_documents_required');
    assert.match(noDocs.body.message, /idDocumentFront, selfie/);

    const nameOnly = await api.request('POST', '/cards', {
      body: { debitAccountId: account.id, firstName: 'Ada', lastName: 'Byron', type: 'virtual', currency: 'USD', typeId: program.id, amount: 100 },
    });
    assert.equal(nameOnly.status, 422, nameOnly.text);
    assert.equal(nameOnly.body.error.code, 'name_only_issuance_not_allowed');

    // Naming the program later applies its demands at once.
    const joined = await api.request('PATCH', `/card-holders/${plain.id}`, { body: { programId: program.id } });
    assert.equal(joined.status, 200, joined.text);
    assert.equal(joined.body.data.kycStatus, 'pending');
  });

  test('refusals: unknown or another organization\'s program, unknown document kinds', async () => {
    const foreignProgram = await api.request('POST', '/card-holders', {
      key: other.apiKey,
      body: { firstName: 'Eve', lastName: 'Doe', programId: program.id },
    });
    assert.equal(foreignProgram.status, 422, foreignProgram.text);
    assert.equal(foreignProgram.body.error.code, 'program_not_found');
    const badKind = await api.request('POST', '/card-programs', {
      body: { name: 'Bad kinds', brand: 'Visa', bin: '45990001', currency: 'USD', requiredDocuments: ['passport'] },
    });
    assert.equal(badKind.status, 422, badKind.text);
    assert.equal(badKind.body.error.code, 'validation_failed');
    const dup = await api.request('PATCH', `/card-programs/${program.id}`, { body: { requiredDocuments: ['selfie', 'selfie'] } });
    assert.equal(dup.status, 422, dup.text);
  });
});
