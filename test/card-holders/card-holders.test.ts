import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type Harness } from '../support/api.ts';
import { createAccount, createCardHolder } from '../support/fixtures.ts';
import { PNG, QUICKSTART_FIELDS, createHolder, eventTypes, expectError, multipart } from './helpers.ts';

let api: Harness;
before(async () => { api = await startHarness(); });
after(async () => { await api.checkLedger(); await api.close(); });

const FULL = {
  firstName: 'Jane', lastName: 'Doe', email: 'jane.doe@example.com', phoneNumber: '+14155550100', dateOfBirth: '1990-07-14',
  nationality: 'US', addressLine1: '123 Main St', addressLine2: 'Suite 5', city: 'San Francisco', state: 'CA', postalCode: '94105', country: 'US',
};

describe('creating card holders', () => {
  test('JSON with every field: verified at once, echoed back, one card_holder.created event', async () => {
    const res = await api.request('POST', '/card-holders', { body: FULL });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.statusCode, 201);
    const holder = res.body.data;
    assert.match(holder.id, /^ch_[0-9a-z]{26}$/);
    const { id, kycStatus, kycReason, documents, spendControls, programId, createdAt, updatedAt, ...fields } = holder;
    assert.deepEqual(fields, FULL);
    assert.deepEqual({ kycStatus, kycReason, documents, spendControls, programId }, { kycStatus: 'verified', kycReason: null, documents: [], spendControls: null, programId: null });
    assert.equal(createdAt, updatedAt);
    assert.deepEqual(await eventTypes(api, id), ['card_holder.created']);
    const event = (await api.request('GET', `/events?resourceId=${id}`)).body.data[0];
    assert.equal(event.data.kycStatus, 'verified');
    assert.equal(event.data.email, FULL.email);
  });

  test('the quickstart holder (multipart, no dateOfBirth, no nationality) is verified and can hold a card', async () => {
    const holder = await createHolder(api);
    assert.equal(holder.kycStatus, 'verified');
    assert.equal(holder.dateOfBirth, null);
    assert.equal(holder.nationality, null);
    assert.equal(holder.phoneNumber, '+1234567890');
    const account = await createAccount(api);
    const card = await api.request('POST', '/cards', { body: { debitAccountId: account.id, cardHolderId: holder.id, type: 'virtual', brand: 'Visa', currency: 'USD', amount: 100 } });
    assert.equal(card.status, 201, card.text);
  });

  test('missing identity fields give needs_information naming them; a US holder also needs a state', async () => {
    const bare = await createCardHolder(api, { email: undefined, city: undefined, postalCode: undefined });
    assert.equal(bare.kycStatus, 'needs_information');
    assert.equal(bare.kycReason, 'Missing identity fields: email, city, postalCode.');
    const noState = await createCardHolder(api, { state: undefined });
    assert.equal(noState.kycStatus, 'needs_information');
    assert.equal(noState.kycReason, 'Missing identity fields: state.');
    const french = await createCardHolder(api, { state: undefined, country: 'FR', city: 'Paris', postalCode: '75001' });
    assert.equal(french.kycStatus, 'verified');
    const namesOnly = await createHolder(api, { firstName: 'Ada', lastName: 'Lovelace' });
    assert.equal(namesOnly.kycReason, 'Missing identity fields: email, addressLine1, city, postalCode, country.');
    const account = await createAccount(api);
    const card = await api.request('POST', '/cards', { body: { debitAccountId: account.id, cardHolderId: namesOnly.id, type: 'virtual', brand: 'Visa', currency: 'USD', amount: 100 } });
    assert.equal(card.status, 422);
    assert.equal(card.body.error.code, 'card_holder_not_verified');
  });

  test('field validation names the field; nothing is created', async () => {
    const before = (await api.request('GET', '/card-holders?limit=100')).body.data.length;
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ firstName: undefined }, 'firstName', 'validation_failed'],
      [{ lastName: '   ' }, 'lastName', 'validation_failed'],
      [{ firstName: 'Ja\u0000ne' }, 'firstName', 'validation_failed'],
      [{ lastName: 'Doe\u202Egnp.exe' }, 'lastName', 'validation_failed'],
      [{ firstName: 'x'.repeat(101) }, 'firstName', 'validation_failed'],
      [{ email: 'not-an-email' }, 'email', 'validation_failed'],
      [{ phoneNumber: '4155550100' }, 'phoneNumber', 'validation_failed'],
      [{ phoneNumber: '+0123456' }, 'phoneNumber', 'validation_failed'],
      [{ phoneNumber: '+1234567890123456' }, 'phoneNumber', 'validation_failed'],
      [{ dateOfBirth: '14/07/1990' }, 'dateOfBirth', 'validation_failed'],
      [{ dateOfBirth: '1990-02-30' }, 'dateOfBirth', 'validation_failed'],
      [{ dateOfBirth: '2999-01-01' }, 'dateOfBirth', 'validation_failed'],
      [{ dateOfBirth: '1850-01-01' }, 'dateOfBirth', 'validation_failed'],
      [{ dateOfBirth: `${new Date().getUTCFullYear() - 10}-01-01` }, 'dateOfBirth', 'card_holder_underage'],
      [{ country: 'us' }, 'country', 'validation_failed'],
      [{ country: 'USA' }, 'country', 'validation_failed'],
      [{ country: 'UK' }, 'country', 'validation_failed'],
      [{ nationality: 'ZZ' }, 'nationality', 'validation_failed'],
      [{ nationality: 'XK' }, 'nationality', 'validation_failed'],
      [{ postalCode: '94105;DROP' }, 'postalCode', 'validation_failed'],
      [{ kycStatus: 'verified' }, 'kycStatus', 'validation_failed'],
      [{ selfie: 'not a file' }, 'selfie', 'validation_failed'],
    ];
    for (const [overrides, field, code] of cases) {
      const res = await api.request('POST', '/card-holders', { body: { ...FULL, ...overrides } });
      expectError(res, 422, code, field);
    }
    const grownUp = new Date();
    grownUp.setUTCFullYear(grownUp.getUTCFullYear() - 18);
    grownUp.setUTCDate(grownUp.getUTCDate() - 1);
    const adult = await api.request('POST', '/card-holders', { body: { ...FULL, dateOfBirth: grownUp.toISOString().slice(0, 10) } });
    assert.equal(adult.status, 201, adult.text);
    assert.equal((await api.request('GET', '/card-holders?limit=100')).body.data.length, before + 1);
  });

  test('malformed bodies and media types', async () => {
    expectError(await api.request('POST', '/card-holders', { raw: '{"firstName":', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
    expectError(await api.request('POST', '/card-holders', { raw: 'firstName=Jane', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type');
    expectError(await api.request('POST', '/card-holders', { raw: '--x\r\n', headers: { 'content-type': 'multipart/form-data' } }), 400, 'invalid_multipart');
    const twice = new FormData();
    twice.append('firstName', 'Jane');
    twice.append('firstName', 'Joan');
    twice.append('lastName', 'Doe');
    expectError(await api.request('POST', '/card-holders', { form: twice }), 422, 'validation_failed', 'firstName');
  });

  test('no credential is 401', async () => {
    expectError(await api.request('POST', '/card-holders', { body: FULL, key: null }), 401, 'unauthorized');
    expectError(await api.request('GET', '/card-holders', { key: null }), 401, 'unauthorized');
  });
});

describe('reading card holders', () => {
  test('get by id; list filters by kycStatus, email (case-insensitive) and creation time; cursor paging', async () => {
    const other = await api.otherOrganization();
    const a = await createCardHolder(api, { email: 'Filter.Me@Example.com' }, other.apiKey);
    const b = await createCardHolder(api, { email: 'filter.me@example.com', city: undefined }, other.apiKey);
    const c = await createCardHolder(api, { email: 'someone.else@example.com' }, other.apiKey);
    const as = (path: string) => api.request('GET', path, { key: other.apiKey });

    const got = await as(`/card-holders/${b.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.data, b);

    const byEmail = await as('/card-holders?email=FILTER.me@example.com');
    assert.deepEqual(byEmail.body.data.map((h: any) => h.id), [b.id, a.id]);
    assert.deepEqual(byEmail.body.meta.filters, { email: 'FILTER.me@example.com' });
    const verified = await as('/card-holders?kycStatus=verified');
    assert.deepEqual(verified.body.data.map((h: any) => h.id), [c.id, a.id]);
    const needs = await as('/card-holders?kycStatus=needs_information&email=filter.me@example.com');
    assert.deepEqual(needs.body.data.map((h: any) => h.id), [b.id]);
    const since = await as(`/card-holders?createdFrom=${encodeURIComponent(b.createdAt)}&sort=createdAt`);
    assert.deepEqual(since.body.data.map((h: any) => h.id).filter((id: string) => id !== a.id), [b.id, c.id]);
    assert.ok(since.body.data.every((h: any) => h.createdAt >= b.createdAt));
    const until = await as(`/card-holders?createdTo=${encodeURIComponent(b.createdAt)}`);
    assert.ok(!until.body.data.some((h: any) => h.id === b.id || h.id === c.id), 'createdTo is exclusive');
    if (a.createdAt < b.createdAt) assert.deepEqual(until.body.data.map((h: any) => h.id), [a.id]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await as(`/card-holders?limit=1&sort=createdAt${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.status, 200, page.text);
      seen.push(...page.body.data.map((h: any) => h.id));
      cursor = page.body.meta.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, [a.id, b.id, c.id]);

    expectError(await as('/card-holders?kycStatus=approved'), 422, 'validation_failed', 'querystring.kycStatus');
    expectError(await as('/card-holders?limit=101'), 422, 'validation_failed');
    expectError(await as('/card-holders/ch_doesnotexist'), 404, 'not_found');
  });
});

describe('updating card holders', () => {
  test('a JSON change records card_holder.updated with the previous values', async () => {
    const holder = await createCardHolder(api, { addressLine2: 'Apt 1' });
    const res = await api.request('PATCH', `/card-holders/${holder.id}`, { body: { phoneNumber: '+442071838750', addressLine2: null } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.phoneNumber, '+442071838750');
    assert.equal(res.body.data.addressLine2, null);
    assert.equal(res.body.data.kycStatus, 'verified');
    assert.ok(res.body.data.updatedAt >= holder.updatedAt);
    assert.equal(res.body.data.createdAt, holder.createdAt);
    const events = (await api.request('GET', `/events?resourceId=${holder.id}&type=card_holder.updated`)).body.data;
    assert.equal(events.length, 1);
    assert.deepEqual(events[0].previousAttributes, { phoneNumber: '+14155550100', addressLine2: 'Apt 1' });
    assert.deepEqual(await eventTypes(api, holder.id), ['card_holder.created', 'card_holder.updated']);
  });

  test('identity changes evaluate KYC again (card_holder.kyc_updated); other fields do not', async () => {
    const holder = await createCardHolder(api);
    const cleared = await api.request('PATCH', `/card-holders/${holder.id}`, { body: { addressLine1: null } });
    assert.equal(cleared.body.data.kycStatus, 'needs_information');
    assert.equal(cleared.body.data.kycReason, 'Missing identity fields: addressLine1.');
    const moved = await api.request('PATCH', `/card-holders/${holder.id}`, { form: multipart({ addressLine1: '1 Market St' }) });
    assert.equal(moved.status, 200, moved.text);
    assert.equal(moved.body.data.kycStatus, 'verified');
    assert.equal(moved.body.data.kycReason, null);
    const kyc = (await api.request('GET', `/events?resourceId=${holder.id}&type=card_holder.kyc_updated&sort=createdAt`)).body.data;
    assert.deepEqual(kyc.map((e: any) => [e.previousAttributes.kycStatus, e.data.kycStatus]), [['verified', 'needs_information'], ['needs_information', 'verified']]);

    await api.request('POST', `/simulator/card-holders/${holder.id}/kyc`, { body: { status: 'pending', reason: 'manual review' } });
    const phone = await api.request('PATCH', `/card-holders/${holder.id}`, { body: { phoneNumber: '+14155550199' } });
    assert.equal(phone.body.data.kycStatus, 'pending', 'a non-identity change keeps the reviewer\'s status');
    assert.equal(phone.body.data.kycReason, 'manual review');
  });

  test('a holder rejected by the simulator stays rejected whatever changes', async () => {
    const holder = await createCardHolder(api);
    await api.request('POST', `/simulator/card-holders/${holder.id}/kyc`, { body: { status: 'rejected', reason: 'sanctions match' } });
    const res = await api.request('PATCH', `/card-holders/${holder.id}`, { body: { lastName: 'Smith', city: 'Oakland' } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.lastName, 'Smith');
    assert.equal(res.body.data.kycStatus, 'rejected');
    assert.equal(res.body.data.kycReason, 'sanctions match');
  });

  test('multipart PATCH can add documents; empty and invalid changes are refused', async () => {
    const holder = await createCardHolder(api);
    const res = await api.request('PATCH', `/card-holders/${holder.id}`, { form: multipart({ city: 'Oakland' }, [{ field: 'selfie', bytes: PNG, type: 'image/png', name: 'me.png' }]) });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.city, 'Oakland');
    assert.deepEqual(res.body.data.documents.map((d: any) => [d.kind, d.fileName, d.contentType]), [['selfie', 'me.png', 'image/png']]);
    assert.deepEqual(await eventTypes(api, holder.id), ['card_holder.created', 'card_holder.updated', 'card_holder.document_added']);

    expectError(await api.request('PATCH', `/card-holders/${holder.id}`, { body: {} }), 422, 'validation_failed');
    expectError(await api.request('PATCH', `/card-holders/${holder.id}`, { body: { firstName: null } }), 422, 'validation_failed', 'firstName');
    expectError(await api.request('PATCH', `/card-holders/${holder.id}`, { form: multipart({ city: '' }) }), 422, 'validation_failed', 'city');
    expectError(await api.request('PATCH', `/card-holders/${holder.id}`, { body: { dateOfBirth: '2020-01-01' } }), 422, 'card_holder_underage', 'dateOfBirth');
    expectError(await api.request('PATCH', `/card-holders/${holder.id}`, { body: { kycStatus: 'verified' } }), 422, 'validation_failed', 'kycStatus');
    expectError(await api.request('PATCH', '/card-holders/ch_doesnotexist', { body: { city: 'Oakland' } }), 404, 'not_found');
    assert.deepEqual(await eventTypes(api, holder.id), ['card_holder.created', 'card_holder.updated', 'card_holder.document_added']);
  });
});

describe('simulated KYC review', () => {
  test('sets any status with a reason and records card_holder.kyc_updated; a repeat changes nothing', async () => {
    const holder = await createCardHolder(api);
    const account = await createAccount(api);
    const issue = () => api.request('POST', '/cards', { body: { debitAccountId: account.id, cardHolderId: holder.id, type: 'virtual', brand: 'Visa', currency: 'USD', amount: 100 } });
    for (const [status, reason] of [['pending', undefined], ['needs_information', 'document_unreadable'], ['rejected', 'sanctions match'], ['verified', undefined]]) {
      const res = await api.request('POST', `/simulator/card-holders/${holder.id}/kyc`, { body: { status, reason } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.data.kycStatus, status);
      assert.equal(res.body.data.kycReason, reason ?? null);
      assert.equal((await api.request('GET', `/card-holders/${holder.id}`)).body.data.kycStatus, status);
    }
    const again = await api.request('POST', `/simulator/card-holders/${holder.id}/kyc`, { body: { status: 'verified' } });
    assert.equal(again.status, 200);
    const events = (await api.request('GET', `/events?resourceId=${holder.id}&type=card_holder.kyc_updated&sort=createdAt`)).body.data;
    assert.deepEqual(events.map((e: any) => [e.previousAttributes.kycStatus, e.data.kycStatus]),
      [['verified', 'pending'], ['pending', 'needs_information'], ['needs_information', 'rejected'], ['rejected', 'verified']]);
    assert.equal((await issue()).status, 201);

    expectError(await api.request('POST', `/simulator/card-holders/${holder.id}/kyc`, { body: { status: 'approved' } }), 422, 'validation_failed', 'status');
    expectError(await api.request('POST', `/simulator/card-holders/${holder.id}/kyc`, { body: { status: 'rejected', reason: 'x'.repeat(256) } }), 422, 'validation_failed', 'reason');
    expectError(await api.request('POST', '/simulator/card-holders/ch_doesnotexist/kyc', { body: { status: 'verified' } }), 404, 'not_found');
  });
});

describe('tenancy and idempotency', () => {
  test('another organization\'s card holder and documents answer 404 on every route', async () => {
    const holder = await createHolder(api, QUICKSTART_FIELDS, [{ field: 'selfie', bytes: PNG, type: 'image/png', name: 'me.png' }]);
    const docId = holder.documents[0].id;
    const other = await api.otherOrganization();
    const as = (method: string, path: string, options: Record<string, unknown> = {}) => api.request(method, path, { key: other.apiKey, ...options });
    expectError(await as('GET', `/card-holders/${holder.id}`), 404, 'not_found');
    expectError(await as('PATCH', `/card-holders/${holder.id}`, { body: { city: 'Elsewhere' } }), 404, 'not_found');
    expectError(await as('POST', `/card-holders/${holder.id}/documents`, { form: multipart({}, [{ field: 'selfie', bytes: PNG, type: 'image/png' }]) }), 404, 'not_found');
    expectError(await as('GET', `/card-holders/${holder.id}/documents/${docId}`), 404, 'not_found');
    expectError(await as('GET', `/card-holders/${holder.id}/documents/${docId}/content`), 404, 'not_found');
    expectError(await as('POST', `/simulator/card-holders/${holder.id}/kyc`, { body: { status: 'rejected' } }), 404, 'not_found');
    assert.ok(!(await as('GET', '/card-holders?limit=100')).body.data.some((h: any) => h.id === holder.id));
    assert.equal((await as('GET', `/events?resourceId=${holder.id}`)).body.data.length, 0);

    // Their own holder cannot reach our document either.
    const theirs = await createHolder(api, QUICKSTART_FIELDS, [], other.apiKey);
    expectError(await as('GET', `/card-holders/${theirs.id}/documents/${docId}`), 404, 'not_found');
    expectError(await as('GET', `/card-holders/${theirs.id}/documents/${docId}/content`), 404, 'not_found');
    // Nor can one of our holders reach another of our holders' documents.
    const sibling = await createHolder(api);
    expectError(await api.request('GET', `/card-holders/${sibling.id}/documents/${docId}`), 404, 'not_found');

    const mine = await api.request('GET', `/card-holders/${holder.id}`);
    assert.equal(mine.body.data.city, 'San Francisco');
    assert.equal(mine.body.data.kycStatus, 'verified');
    assert.equal(mine.body.data.documents.length, 1);
  });

  test('a multipart create with an Idempotency-Key is replayed, and the key cannot be reused for other files', async () => {
    const key = `ch-${Date.now()}`;
    const send = (bytes: Buffer) => api.request('POST', '/card-holders', {
      form: multipart({ firstName: 'Idem', lastName: 'Potent' }, [{ field: 'idDocumentFront', bytes, type: 'image/png', name: 'front.png' }]),
      headers: { 'idempotency-key': key },
    });
    const first = await send(PNG);
    assert.equal(first.status, 201, first.text);
    const replay = await send(PNG);
    assert.equal(replay.status, 201);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(replay.body.data.id, first.body.data.id);
    const list = await api.request('GET', '/card-holders?limit=100');
    assert.equal(list.body.data.filter((h: any) => h.firstName === 'Idem').length, 1);
    const changed = Buffer.concat([PNG, Buffer.from([0])]);
    expectError(await send(changed), 422, 'idempotency_key_reused');
  });
});

describe('spend controls on card holders', () => {
  test('are stored, validated, changed and cleared through JSON', async () => {
    const controls = { limits: [{ amount: 10_000, interval: 'monthly' }], blockedCategories: ['7995'], blockedCountries: ['KP'] };
    const created = await api.request('POST', '/card-holders', { body: { firstName: 'Lim', lastName: 'Its', spendControls: controls } });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.body.data.spendControls, controls);
    const id = created.body.data.id;
    for (const spendControls of [{ blockedCategories: ['12345'] }, { limits: [{ amount: -1, interval: 'daily' }] }, { allowedCountries: ['fr'] }, { unknown: true }]) {
      const bad = await api.request('PATCH', `/card-holders/${id}`, { body: { spendControls } });
      assert.equal(bad.status, 422, JSON.stringify(spendControls));
    }
    const changed = await api.request('PATCH', `/card-holders/${id}`, { body: { spendControls: { allowedCategories: ['5812'] } } });
    assert.equal(changed.status, 200, changed.text);
    assert.deepEqual(changed.body.data.spendControls, { allowedCategories: ['5812'] });
    const event = (await api.request('GET', `/events?resourceId=${id}&type=card_holder.updated`)).body.data[0];
    assert.deepEqual(event.previousAttributes.spendControls, controls);
    const cleared = await api.request('PATCH', `/card-holders/${id}`, { body: { spendControls: null } });
    assert.equal(cleared.body.data.spendControls, null);
  });
});
