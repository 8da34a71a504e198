import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startHarness, type Harness } from '../support/api.ts';
import { createProgram } from '../support/fixtures.ts';

let api: Harness;
before(async () => { api = await startHarness(); });
after(async () => { await api.checkLedger(); await api.close(); });

test('a new organization has active Visa and Mastercard programs in USD and EUR', async () => {
  const res = await api.request('GET', '/card-programs?sort=createdAt');
  assert.equal(res.status, 200);
  const programs = res.body.data.map((p: any) => `${p.brand} ${p.currency} ${p.status} ${p.cardTypes.join('+')}`);
  assert.deepEqual(programs, [
    'Visa USD active virtual+physical', 'Visa EUR active virtual+physical',
    'Mastercard USD active virtual+physical', 'Mastercard EUR active virtual+physical',
  ]);
  const mc = await api.request('GET', '/card-programs?brand=Mastercard&currency=EUR');
  assert.equal(mc.body.data.length, 1);
  assert.match(mc.body.data[0].bin, /^(5[1-5]|2[2-7])/);
});

test('create, get and update a program; events record the change', async () => {
  const program = await createProgram(api, { brand: 'mastercard', bin: '222100', currency: 'eur', cardTypes: ['virtual'], blockedNationalities: ['KP'] });
  assert.equal(program.brand, 'Mastercard');
  assert.equal(program.currency, 'EUR');
  assert.deepEqual(program.cardTypes, ['virtual']);
  assert.equal(program.cardValidityYears, 3);
  assert.equal(program.holdTtlHours, 168);
  const got = await api.request('GET', `/card-programs/${program.id}`);
  assert.deepEqual(got.body.data, program);
  const updated = await api.request('PATCH', `/card-programs/${program.id}`, {
    body: { status: 'inactive', cardValidityYears: 5, authorizationWebhook: { url: 'http://127.0.0.1:9/decide' } },
  });
  assert.equal(updated.status, 200, updated.text);
  assert.equal(updated.body.data.status, 'inactive');
  const { secret, ...hook } = updated.body.data.authorizationWebhook;
  assert.match(secret, /^whsec_/, 'the signing secret is shown on the request that set the webhook');
  assert.deepEqual(hook, { url: 'http://127.0.0.1:9/decide', timeoutMs: 2000, fallback: 'decline' });
  const read = await api.request('GET', `/card-programs/${program.id}`);
  assert.equal(read.body.data.authorizationWebhook.secret, undefined, 'and never again');
  const events = await api.request('GET', `/events?resourceId=${program.id}&sort=createdAt`);
  assert.deepEqual(events.body.data.map((e: any) => e.type), ['card_program.created', 'card_program.updated']);
  assert.equal(events.body.data[1].previousAttributes.status, 'active');
});

test('bad programs are refused with a code', async () => {
  const cases: Array<[Record<string, unknown>, number, string]> = [
    [{ brand: 'Visa', bin: '51234567' }, 422, 'bin_brand_mismatch'],
    [{ brand: 'Mastercard', bin: '41234567' }, 422, 'bin_brand_mismatch'],
    [{ brand: 'Mastercard', bin: '27210000' }, 422, 'bin_brand_mismatch'],
    [{ brand: 'Amex', bin: '37123456' }, 422, 'validation_failed'],
    [{ bin: '4123' }, 422, 'validation_failed'],
    [{ currency: 'ABC' }, 422, 'invalid_currency'],
    [{ cardValidityYears: 0 }, 422, 'validation_failed'],
    [{ authorizationWebhook: { url: 'http://x', timeoutMs: 6000 } }, 422, 'validation_failed'],
    [{ defaultSpendControls: { allowedCategories: ['58121'] } }, 422, 'validation_failed'],
    [{ defaultSpendControls: { limits: [{ amount: 100, interval: 'hourly' }] } }, 422, 'validation_failed'],
  ];
  for (const [overrides, status, code] of cases) {
    const res = await api.request('POST', '/card-programs', { body: { name: `bad ${code} ${Math.random()}`, brand: 'Visa', bin: '45990000', currency: 'USD', ...overrides } });
    assert.equal(res.status, status, `${JSON.stringify(overrides)}: ${res.text}`);
    assert.equal(res.body.error.code, code, JSON.stringify(overrides));
  }
  const dup = await api.request('POST', '/card-programs', { body: { name: 'Visa USD', brand: 'Visa', bin: '45990000', currency: 'USD' } });
  assert.equal(dup.status, 409);
  assert.equal(dup.body.error.code, 'program_name_taken');
});

test('another organization sees 404 for this program', async () => {
  const program = await createProgram(api);
  const other = await api.otherOrganization();
  const get = await api.request('GET', `/card-programs/${program.id}`, { key: other.apiKey });
  assert.equal(get.status, 404);
  const patch = await api.request('PATCH', `/card-programs/${program.id}`, { key: other.apiKey, body: { status: 'inactive' } });
  assert.equal(patch.status, 404);
  assert.equal((await api.request('GET', `/card-programs/${program.id}`)).body.data.status, 'active');
});
