// Card issuance: PAN, expiry, masking, funding in one transaction, and every failure leaving no
// card and no debit.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type Harness } from '../support/api.ts';
import { balanceOf, countCards, createAccount, createCardHolder, createProgram, issueNameOnlyCard } from '../support/fixtures.ts';
import { isLuhnValid } from '../../src/modules/cards/card-numbers.ts';

let api: Harness;
before(async () => { api = await startHarness(); });
after(async () => { await api.checkLedger(); await api.close(); });

async function expectNoCardAndNoDebit(account: { id: string }, run: () => Promise<{ status: number; body: any; text: string }>, status: number, code: string) {
  const before = await balanceOf(api, account.id);
  const cardsBefore = await countCards(api);
  const res = await run();
  assert.equal(res.status, status, res.text);
  assert.equal(res.body.error.code, code, res.text);
  assert.deepEqual(await balanceOf(api, account.id), before);
  assert.equal(await countCards(api), cardsBefore);
}

describe('issuance', () => {
  test('a virtual card gets a Luhn-valid PAN from the program BIN, sealed at rest and masked in responses', async () => {
    const account = await createAccount(api);
    const holder = await createCardHolder(api);
    const res = await api.request('POST', '/cards', {
      body: { debitAccountId: account.id, cardHolderId: holder.id, type: 'virtual', brand: 'visa', currency: 'USD', amount: 2_500, label: 'Ads', externalId: 'ext-1', metadata: { team: 'growth' } },
    });
    assert.equal(res.status, 201, res.text);
    const card = res.body.data;
    assert.equal(card.programName, 'Visa USD');
    assert.equal(card.bin, '45320100');
    assert.equal(card.maskedPan, `45320100****${card.lastFour}`);
    assert.deepEqual(card.balance, { available: 2_500, pending: 0 });
    assert.equal(card.isPinSet, false);
    assert.equal(card.mobile, '+14155550100', 'defaults to the holder phone');
    const now = new Date();
    assert.deepEqual(card.expiry, { month: now.getUTCMonth() + 1, year: now.getUTCFullYear() + 3 });
    assert.deepEqual(card.metadata, { team: 'growth' });
    assert.equal((await balanceOf(api, account.id)).available, 10_000_000 - 2_500);

    const [row] = await api.app.ctx.db.query<any>('SELECT * FROM cards WHERE id = $1', [card.id]);
    const pan = api.app.ctx.vault.openRecord({ ciphertext: row.pan_ciphertext, wrappedKey: row.pan_data_key, keyId: row.pan_key_id });
    assert.ok(isLuhnValid(pan), pan);
    assert.equal(pan.length, 16);
    assert.ok(pan.startsWith('45320100'));
    assert.equal(pan.slice(-4), card.lastFour);
    assert.ok(!row.pan_ciphertext.includes(pan.slice(8)), 'ciphertext does not contain the PAN digits');
    assert.equal(row.pan_key_id, api.app.ctx.vault.keyId);
    assert.ok(!JSON.stringify(res.body).includes(pan));

    const list = await api.request('GET', `/cards?cardHolderId=${holder.id}`);
    assert.deepEqual(list.body.data.map((c: any) => c.id), [card.id]);
    assert.ok(!list.text.includes(pan));
    const entries = await api.request('GET', `/accounts/${account.id}/entries?limit=1`);
    assert.deepEqual([entries.body.data[0].kind, entries.body.data[0].referenceId, entries.body.data[0].amount], ['card_funding', card.id, 2_500]);
  });

  test('customerId is an alias of cardHolderId and initialBalance of amount; programName and typeId choose the program', async () => {
    const account = await createAccount(api, { currency: 'EUR' });
    const holder = await createCardHolder(api);
    const byName = await api.request('POST', '/cards', { body: { debitAccountId: account.id, customerId: holder.id, type: 'virtual', currency: 'EUR', programName: 'Mastercard EUR', initialBalance: 700 } });
    assert.equal(byName.status, 201, byName.text);
    assert.equal(byName.body.data.cardHolderId, holder.id);
    assert.equal(byName.body.data.scheme, 'MC');
    assert.equal(byName.body.data.balance.available, 700);
    const programs = await api.request('GET', '/card-programs?brand=Visa&currency=EUR');
    const byId = await api.request('POST', '/cards', { body: { debitAccountId: account.id, cardHolderId: holder.id, type: 'virtual', currency: 'EUR', typeId: programs.body.data[0].id, status: 'locked', amount: 0 } });
    assert.equal(byId.status, 201, byId.text);
    assert.equal(byId.body.data.programName, 'Visa EUR');
    assert.equal(byId.body.data.status, 'locked');
    assert.equal(byId.body.data.balance.available, 0);
  });

  test('name-only issuance works where the program allows it and is refused where not', async () => {
    const account = await createAccount(api);
    const program = await createProgram(api);
    const ok = await issueNameOnlyCard(api, account, program, 100);
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.data.cardHolderId, null);
    assert.equal(ok.body.data.firstName, 'Ada');
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', {
      body: { debitAccountId: account.id, firstName: 'A', lastName: 'B', type: 'virtual', brand: 'Visa', currency: 'USD', amount: 100 },
    }), 422, 'name_only_issuance_not_allowed');
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', {
      body: { debitAccountId: account.id, firstName: 'A', type: 'virtual', typeId: program.id, currency: 'USD', amount: 100 },
    }), 422, 'validation_failed');
  });

  test('physical cards need a valid delivery address and, for US holders, accepted terms', async () => {
    const account = await createAccount(api);
    const holder = await createCardHolder(api);
    const address = { address1: '123 Main St', city: 'San Francisco', countryCode: 'US', state: 'CA', postalCode: '94105' };
    const base = { debitAccountId: account.id, cardHolderId: holder.id, type: 'physical', brand: 'Visa', currency: 'USD', amount: 100 };
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: { ...base, termsAndConditionsAccepted: true, eDisclosureAccepted: true } }), 422, 'validation_failed');
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: { ...base, deliveryAddress: address } }), 422, 'terms_not_accepted');
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: { ...base, deliveryAddress: { ...address, state: undefined }, termsAndConditionsAccepted: true, eDisclosureAccepted: true } }), 422, 'validation_failed');
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: { ...base, deliveryAddress: { ...address, postalCode: '123' }, termsAndConditionsAccepted: true, eDisclosureAccepted: true } }), 422, 'validation_failed');
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: { ...base, deliveryAddress: { ...address, address1: 'abc' }, termsAndConditionsAccepted: true, eDisclosureAccepted: true } }), 422, 'validation_failed');
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: { ...base, type: 'virtual', deliveryAddress: address } }), 422, 'validation_failed');

    const ok = await api.request('POST', '/cards', { body: { ...base, deliveryAddress: address, termsAndConditionsAccepted: true, eDisclosureAccepted: true } });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.data.status, 'issued');
    assert.equal(ok.body.data.activatedAt, null);
    assert.deepEqual(ok.body.data.shipping, { status: 'pending', trackingNumber: null, shippedAt: null, deliveredAt: null });
    assert.deepEqual(ok.body.data.deliveryAddress, address);
  });

  test('a weak cardPin is refused; a good one sets isPinSet and is never returned', async () => {
    const account = await createAccount(api);
    const holder = await createCardHolder(api, { dateOfBirth: '1990-07-14' });
    const base = { debitAccountId: account.id, cardHolderId: holder.id, type: 'virtual', brand: 'Visa', currency: 'USD', amount: 100 };
    for (const pin of ['1111', '1234', '9876', '1212', '1122', '1987', '0714', '1407']) {
      await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: { ...base, cardPin: pin } }), 422, 'weak_pin');
    }
    const bad = await api.request('POST', '/cards', { body: { ...base, cardPin: '12a4' } });
    assert.equal(bad.status, 422);
    const ok = await api.request('POST', '/cards', { body: { ...base, cardPin: '8068' } });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.data.isPinSet, true);
    assert.ok(!ok.text.includes('8068'));
    const events = await api.request('GET', `/events?resourceId=${ok.body.data.id}`);
    assert.ok(!events.text.includes('8068'));
  });
});

describe('failures leave no card and no debit', () => {
  test('insufficient funds', async () => {
    const account = await createAccount(api);
    const holder = await createCardHolder(api);
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', {
      body: { debitAccountId: account.id, cardHolderId: holder.id, type: 'virtual', brand: 'Visa', currency: 'USD', amount: 10_000_001 },
    }), 422, 'insufficient_funds');
    const exact = await api.request('POST', '/cards', { body: { debitAccountId: account.id, cardHolderId: holder.id, type: 'virtual', brand: 'Visa', currency: 'USD', amount: 10_000_000 } });
    assert.equal(exact.status, 201, exact.text);
    assert.equal((await balanceOf(api, account.id)).available, 0);
  });

  test('unverified and rejected card holders', async () => {
    const account = await createAccount(api);
    const holder = await createCardHolder(api);
    const base = { debitAccountId: account.id, cardHolderId: holder.id, type: 'virtual', brand: 'Visa', currency: 'USD', amount: 100 };
    const pending = await api.request('POST', `/simulator/card-holders/${holder.id}/kyc`, { body: { status: 'needs_information', reason: 'blurry document' } });
    assert.equal(pending.status, 200, pending.text);
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: base }), 422, 'card_holder_not_verified');
    await api.request('POST', `/simulator/card-holders/${holder.id}/kyc`, { body: { status: 'rejected', reason: 'sanctions' } });
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: base }), 422, 'card_holder_rejected');
    const lenient = await createProgram(api);
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: { ...base, brand: undefined, typeId: lenient.id } }), 422, 'card_holder_rejected');
  });

  test('blocked nationality, inactive program, currency mismatch, unsupported type, unknown ids', async () => {
    const account = await createAccount(api);
    const holder = await createCardHolder(api, { nationality: 'KP' });
    const program = await createProgram(api, { blockedNationalities: ['KP'], cardTypes: ['virtual'] });
    const base = { debitAccountId: account.id, cardHolderId: holder.id, type: 'virtual', currency: 'USD', amount: 100, typeId: program.id };
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: base }), 422, 'nationality_blocked');
    const other = await createCardHolder(api, { nationality: 'FR' });
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: { ...base, cardHolderId: other.id, type: 'physical', deliveryAddress: { address1: '1 Rue de Rivoli', city: 'Paris', countryCode: 'FR', postalCode: '75001' } } }), 422, 'card_type_not_supported');
    await api.request('PATCH', `/card-programs/${program.id}`, { body: { status: 'inactive' } });
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: { ...base, cardHolderId: other.id } }), 422, 'program_inactive');
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: { ...base, cardHolderId: other.id, typeId: undefined, brand: 'Visa', currency: 'EUR' } }), 422, 'currency_mismatch');
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: { ...base, cardHolderId: other.id, typeId: undefined, programName: 'Visa EUR', currency: 'USD' } }), 422, 'currency_mismatch');
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: { ...base, cardHolderId: other.id, typeId: 'prg_nope' } }), 422, 'program_not_found');
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: { ...base, cardHolderId: 'ch_nope', typeId: undefined, brand: 'Visa' } }), 422, 'card_holder_not_found');
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: { ...base, cardHolderId: other.id, typeId: undefined, brand: 'Visa', budgetId: 'bud_nope', amount: undefined } }), 422, 'budget_not_found');
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: { ...base, cardHolderId: other.id, typeId: undefined, brand: 'Visa', amount: 1.5 } }), 422, 'invalid_amount');
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: { ...base, cardHolderId: other.id, typeId: undefined, brand: 'Visa', amount: -1 } }), 422, 'invalid_amount');
  });

  test('a frozen debit account or another organization\'s ids cannot fund a card', async () => {
    const account = await createAccount(api);
    const holder = await createCardHolder(api);
    await api.request('PATCH', `/accounts/${account.id}`, { body: { status: 'frozen' } });
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', {
      body: { debitAccountId: account.id, cardHolderId: holder.id, type: 'virtual', brand: 'Visa', currency: 'USD', amount: 100 },
    }), 422, 'account_not_active');
    await api.request('PATCH', `/accounts/${account.id}`, { body: { status: 'active' } });

    const other = await api.otherOrganization();
    const theirs = await createAccount(api, {}, other.apiKey);
    const res = await api.request('POST', '/cards', { body: { debitAccountId: theirs.id, cardHolderId: holder.id, type: 'virtual', brand: 'Visa', currency: 'USD', amount: 100 } });
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, 'account_not_found');
    const theirCardWithMyHolder = await api.request('POST', '/cards', { key: other.apiKey, body: { debitAccountId: theirs.id, cardHolderId: holder.id, type: 'virtual', brand: 'Visa', currency: 'USD', amount: 100 } });
    assert.equal(theirCardWithMyHolder.status, 422);
    assert.equal(theirCardWithMyHolder.body.error.code, 'card_holder_not_found');
    assert.equal((await balanceOf(api, account.id)).available, 10_000_000);
  });
});

describe('issuance in few statements (issue 10)', () => {
  test('the program is checked before the account, the account before the holder, as they always were', async () => {
    const account = await createAccount(api);
    const program = await createProgram(api);
    const holder = await createCardHolder(api);
    const other = await api.otherOrganization();
    const theirs = await createAccount(api, {}, other.apiKey);
    const base = { type: 'virtual', currency: 'USD', amount: 100, firstName: 'Ada', lastName: 'Lovelace' };
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ debitAccountId: theirs.id, typeId: 'prg_nope' }, 'program_not_found', 'typeId'],
      [{ debitAccountId: 'acc_nope', programName: 'No such program' }, 'program_not_found', 'programName'],
      [{ debitAccountId: theirs.id, brand: 'Visa', currency: 'JPY' }, 'program_not_found', 'brand'],
      [{ debitAccountId: theirs.id, typeId: program.id, cardHolderId: 'ch_nope' }, 'account_not_found', 'debitAccountId'],
      [{ debitAccountId: account.id, typeId: program.id, cardHolderId: 'ch_nope' }, 'card_holder_not_found', 'cardHolderId'],
      [{ debitAccountId: account.id, typeId: program.id, cardHolderId: holder.id, currency: 'EUR' }, 'currency_mismatch', 'currency'],
    ];
    for (const [body, code, field] of cases) {
      await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: { ...base, ...body } }), 422, code);
      const res = await api.request('POST', '/cards', { body: { ...base, ...body } });
      assert.equal(res.body.error.details?.[0]?.field, field, res.text);
    }
  });

  test('the answer is the card as GET reads it, and its card.created event says the same', async () => {
    const account = await createAccount(api);
    const program = await createProgram(api);
    // jsonb stores keys in its own order: the answer must show them as every later read does.
    const metadata = { zeta: 'last', a: 'first', middle: 'm' };
    const issued = await issueNameOnlyCard(api, account, program, 1_234, { metadata, label: 'Exact', spendControls: { blockedCategories: ['7995'], allowedCountries: ['US', 'CA'] } });
    assert.equal(issued.status, 201, issued.text);
    const read = await api.request('GET', `/cards/${issued.body.data.id}`);
    assert.equal(JSON.stringify(issued.body.data), JSON.stringify(read.body.data));
    assert.deepEqual(issued.body.data.balance, { available: 1_234, pending: 0 });
    const events = await api.request('GET', `/events?resourceId=${issued.body.data.id}`);
    assert.deepEqual(events.body.data.map((e: { type: string; sequence: number }) => [e.type, e.sequence]), [['card.created', 1]]);
    assert.deepEqual(events.body.data[0].data, read.body.data);
    const entries = await api.request('GET', `/cards/${issued.body.data.id}/entries`);
    assert.deepEqual(entries.body.data.map((e: { kind: string; amount: number; balanceAfter: number }) => [e.kind, e.amount, e.balanceAfter]), [['card_funding', 1_234, 1_234]]);

    // A physical card carries a delivery address and its shipping state: the same holds for them.
    const physical = await issueNameOnlyCard(api, account, await createProgram(api, { cardTypes: ['virtual', 'physical'] }), 0, {
      type: 'physical', deliveryAddress: { postalCode: '75001', countryCode: 'FR', city: 'Paris', address1: '1 Rue de Rivoli' },
    });
    assert.equal(physical.status, 201, physical.text);
    assert.equal(physical.body.data.shipping.status, 'pending');
    const physicalRead = await api.request('GET', `/cards/${physical.body.data.id}`);
    assert.equal(JSON.stringify(physical.body.data), JSON.stringify(physicalRead.body.data));
  });
});

describe('budget cards', () => {
  test('spend from the budget\'s account, have no balance of their own and take no funding', async () => {
    const account = await createAccount(api);
    const other = await createAccount(api);
    const program = await createProgram(api);
    const budget = (await api.request('POST', '/budgets', { body: { accountId: account.id, name: 'Team', currency: 'USD', limit: { amount: 50_000, interval: 'monthly' } } })).body.data;
    const base = { budgetId: budget.id, firstName: 'Ada', lastName: 'Lovelace', type: 'virtual', currency: 'USD', typeId: program.id };
    const ok = await api.request('POST', '/cards', { body: base });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.data.budgetId, budget.id);
    assert.equal(ok.body.data.debitAccountId, account.id);
    assert.deepEqual(ok.body.data.balance, { available: 0, pending: 0 });
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: { ...base, amount: 100 } }), 422, 'budget_card');
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: { ...base, debitAccountId: other.id } }), 422, 'budget_account_mismatch');
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: { ...base, currency: 'EUR', typeId: undefined, brand: 'Visa' } }), 422, 'currency_mismatch');
    const topUp = await api.request('POST', `/cards/${ok.body.data.id}/top-up`, { body: { amount: 100 } });
    assert.equal(topUp.status, 422);
    assert.equal(topUp.body.error.code, 'budget_card');
    await api.request('POST', `/budgets/${budget.id}/close`);
    await expectNoCardAndNoDebit(account, () => api.request('POST', '/cards', { body: base }), 422, 'budget_closed');
  });
});

describe('reading cards', () => {
  test('get and list are scoped to the organization and filter by status, type and account', async () => {
    const account = await createAccount(api);
    const program = await createProgram(api);
    const a = (await issueNameOnlyCard(api, account, program, 10)).body.data;
    const b = (await issueNameOnlyCard(api, account, program, 10, { status: 'locked' })).body.data;
    const byAccount = await api.request('GET', `/cards?accountId=${account.id}`);
    assert.deepEqual(byAccount.body.data.map((c: any) => c.id), [b.id, a.id]);
    const locked = await api.request('GET', `/cards?accountId=${account.id}&status=locked`);
    assert.deepEqual(locked.body.data.map((c: any) => c.id), [b.id]);
    const got = await api.request('GET', `/cards/${a.id}`);
    assert.deepEqual(got.body.data, a);
    const other = await api.otherOrganization();
    assert.equal((await api.request('GET', `/cards/${a.id}`, { key: other.apiKey })).status, 404);
    const theirList = await api.request('GET', `/cards?accountId=${account.id}`, { key: other.apiKey });
    assert.deepEqual(theirList.body.data, []);
  });
});
